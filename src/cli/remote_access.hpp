// Remote access: a relay gives whoever connects to it the host's network,
// and through 10.0.2.2 the host's loopback services; over adb and on
// loopback that is only this machine's users, elsewhere anyone who can
// reach the port. So a listener beyond loopback is refused unless
// --allow-remote says so (and then a warning names the risk), and a relay
// that accepts remote clients keeps host loopback off unless --host-loopback
// turns it back on. docs/SECURITY.md has the whole threat model.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "wire/ip_address.hpp"

namespace rtether::cli {

struct RemoteAccessOptions {
  bool allow_remote = false;
  bool host_loopback = false;     // --host-loopback: on even for remote clients
  bool no_host_loopback = false;  // --no-host-loopback: off even on loopback
};

// --allow-remote, --host-loopback, --no-host-loopback.
void add_remote_access_options(CLI::App* command, RemoteAccessOptions& options);

// Checks where the relay listens for clients (`--bind`): empty when allowed
// (a warning is logged for a remote one, saying whether --secret guards
// it), else the one-line error.
std::string check_client_listener(const wire::IpAddress& at, const RemoteAccessOptions& options,
                                  bool secret);
// The same for a --forward listener (`rule_text` is the option's value):
// beyond loopback it exposes a device port to the network.
std::string check_forward_listener(const wire::IpAddress& at, const std::string& rule_text,
                                   const RemoteAccessOptions& options);

// The same for the --metrics endpoint (`text` is the option's value):
// beyond loopback it shows anyone who reaches it the devices' serials and
// traffic.
std::string check_metrics_listener(const wire::IpAddress& at, const std::string& text,
                                   bool allow_remote);

// Whether devices may reach the host's loopback (10.0.2.2, fd00::2:2,
// 127.0.0.0/8, ::1): on unless turned off, and off by default for a relay
// that accepts remote clients.
bool host_loopback_allowed(const RemoteAccessOptions& options, bool accepts_remote_clients);

}  // namespace rtether::cli
