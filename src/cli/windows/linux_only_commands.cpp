// client, shell and vpnservice on Windows: they are the device side of
// rtether (a tun device, network namespaces, OpenVPN's management
// interface), which only Linux provides. They are still listed, so that
// `rtether client ...` on Windows says why it cannot run instead of
// "unknown command"; any options after them are accepted and ignored.
#include <cstdio>

#include "cli/app.hpp"

namespace rtether::cli {

namespace {
void register_linux_only(CLI::App& app, CommandBody& body, const char* name,
                         const char* description) {
  auto* command = app.add_subcommand(name, std::string(description) + " (Linux only)");
  command->allow_extras();
  command->callback([&body, name] {
    body = [name] {
      std::fprintf(stderr,
                   "rtether %s runs on Linux only (it is the device side: a tun device and "
                   "network namespaces); on Windows rtether runs the host side: relay, run, "
                   "autorun, start, stop, tunnel, install\n",
                   name);
      return 2;
    };
  });
}
}  // namespace

void register_client(CLI::App& app, CommandBody& body) {
  register_linux_only(app, body, "client", "Device side: tun <-> relay");
}

void register_shell(CLI::App& app, CommandBody& body, const char*) {
  register_linux_only(app, body, "shell", "Run a command in a network namespace reached only through rtether");
}

void register_vpnservice(CLI::App& app, CommandBody& body) {
  register_linux_only(app, body, "vpnservice", "VpnService helper for a device daemon's management interface");
}

}  // namespace rtether::cli
