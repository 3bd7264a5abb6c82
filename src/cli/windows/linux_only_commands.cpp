// client, shell and vpnservice on Windows: they are the device side of
// rtether (a tun device, network namespaces, OpenVPN's management
// interface), which only Linux provides. status and forward talk to the
// relay's control socket, which is Linux only (cli/windows/control_option.cpp
// says why). They are still listed, so that `rtether client ...` on Windows
// says why it cannot run instead of "unknown command"; any options after
// them are accepted and ignored.
#include <cstdio>

#include "cli/app.hpp"

namespace rtether::cli {

namespace {
constexpr const char* kDeviceSide =
    "it is the device side: a tun device and network namespaces";
constexpr const char* kControlSocket =
    "it needs the relay's control socket, which is Linux only: Windows has no SO_PEERCRED to "
    "check who connects";

void register_linux_only(CLI::App& app, CommandBody& body, const char* name,
                         const char* description, const char* why = kDeviceSide) {
  auto* command = app.add_subcommand(name, std::string(description) + " (Linux only)");
  command->allow_extras();
  command->callback([&body, name, why] {
    body = [name, why] {
      std::fprintf(stderr,
                   "rtether %s runs on Linux only (%s); on Windows rtether runs the host side: "
                   "relay, run, autorun, start, stop, tunnel, install\n",
                   name, why);
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

void register_control(CLI::App& app, CommandBody& body) {
  register_linux_only(app, body, "status", "Show a running relay's clients, flows and totals",
                      kControlSocket);
  register_linux_only(app, body, "forward", "Add, remove or list a running relay's port forwards",
                      kControlSocket);
}

}  // namespace rtether::cli
