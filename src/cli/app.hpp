// Command-line front end: one CLI11 app, one subcommand per file
// (<name>_command.cpp), each registering itself through a register_* call.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace rtether::cli {

// A subcommand's body runs after parsing and returns the process exit status.
using CommandBody = std::function<int()>;

int run(int argc, char** argv);

// Each returns the body to run when its subcommand is selected.
void register_relay(CLI::App& app, CommandBody& body);
void register_client(CLI::App& app, CommandBody& body);
void register_vpnservice(CLI::App& app, CommandBody& body);
void register_shell(CLI::App& app, CommandBody& body, const char* self_path);
// install, uninstall, reinstall, start, stop, restart, tunnel, run,
// autostart, autorun: Gnirehtet's host commands (gnirehtet_commands.cpp).
void register_gnirehtet(CLI::App& app, CommandBody& body);
// status, forward add|remove|list: requests to a running relay's control
// socket (Linux only; cli/linux/control_commands.cpp).
void register_control(CLI::App& app, CommandBody& body);

}  // namespace rtether::cli
