// Direct mode on Windows: there is no network namespace to open a tun in, so
// --netns is refused as a bad value (exit 2) with that reason.
#include "cli/direct_mode.hpp"

#include <string>

namespace rtether::cli {

void add_direct_mode_options(CLI::App& command, OpenDirectDevice&) {
  command
      .add_option("--netns", "Serve a network namespace's tun directly (Linux only)")
      ->type_name("NAME|PATH|PID")
      ->check([](const std::string&) {
        return std::string("direct mode (a tun in a network namespace) is Linux only");
      });
}

}  // namespace rtether::cli
