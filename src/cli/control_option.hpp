// `--control [PATH]` on relay, run and autorun: the relay's control socket
// (control/README.md), opened only when asked. On Windows the option is
// listed but refused (the control socket is Linux only).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "control/control_server.hpp"
#include "io/event_loop.hpp"
#include "relay/relay.hpp"

namespace rtether::cli {

struct ControlOption {
  CLI::Option* option = nullptr;  // set by add_control_option
  std::string path;               // empty: the default path
};

void add_control_option(CLI::App* command, ControlOption& control);

// The default control socket path for this process: its XDG_RUNTIME_DIR
// and effective uid (control/control_path.hpp has the rule). Linux only,
// as are `status` and `forward`, which connect there by default.
std::string default_control_path_here();

// The control server for `relay`, or null when --control was not given.
// A shared_ptr binds its deleter where the server is made (Linux), so the
// Windows build, which never makes one, needs no ControlServer code.
// `check_forward` is the command's policy for forwards added through it.
// Throws std::runtime_error (start-up: path in use, folder not private;
// on Windows: not available).
std::shared_ptr<control::ControlServer> open_control(
    const ControlOption& control, io::EventLoop& loop, relay::Relay& relay,
    control::ControlServer::ForwardCheck check_forward);

}  // namespace rtether::cli
