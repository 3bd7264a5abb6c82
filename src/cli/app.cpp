// Top-level argument parsing: global flags (-v, -q, --version) and dispatch
// to the selected subcommand. Bad values end with one clear line and exit 2.
#include "cli/app.hpp"

#include <cstdio>

#include "io/log.hpp"

#ifndef RTETHER_VERSION
#define RTETHER_VERSION "dev"
#endif

namespace rtether::cli {

int run(int argc, char** argv) {
  CLI::App app{"rtether: reverse tethering relay and device client"};
  app.set_version_flag("--version", std::string("rtether ") + RTETHER_VERSION);
  app.require_subcommand(1);
  // -v/-q are accepted after the subcommand too (`rtether relay -q`).
  app.fallthrough();
  int verbose = 0;
  bool quiet = false;
  app.add_flag("-v,--verbose", verbose, "More log output (repeat for debug)");
  app.add_flag("-q,--quiet", quiet, "Only warnings and errors");

  CommandBody body;
  register_relay(app, body);
  register_client(app, body);
  register_shell(app, body, argv[0]);
  register_vpnservice(app, body);
  register_gnirehtet(app, body);
  register_control(app, body);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports an unknown command as a missing subcommand; name it.
    if (app.get_subcommands().empty() && argc > 1 && argv[1][0] != '-') {
      std::fprintf(stderr, "unknown command '%s' (rtether --help lists them)\n", argv[1]);
      return 2;
    }
    // --help and --version exit 0; every bad option or value exits 2.
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (quiet) log::set_level(log::Level::Warn);
  if (verbose > 0) log::set_level(log::Level::Debug);
  if (!body) return 2;
  try {
    return body();
  } catch (const std::exception& e) {
    log::error("{}", e.what());
    return 1;
  }
}

}  // namespace rtether::cli
