// ControlServer: the control socket of a running relay, on the relay's
// event loop (protocol in control_protocol.hpp, bounds and who may connect
// in control/README.md). Requests act on the Relay at once: a status
// snapshot, or a forward rule added or removed without a restart.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "io/accept_pause.hpp"
#include "io/event_loop.hpp"
#include "io/private_unix_listener.hpp"
#include "relay/forward_rule.hpp"
#include "relay/relay.hpp"

namespace rtether::control {

class ControlServer {
 public:
  // The command's policy for a new forward's listener: "" when allowed,
  // else why not (cli/remote_access.hpp: beyond loopback needs
  // --allow-remote).
  using ForwardCheck = std::function<std::string(const relay::ForwardRule&, const std::string&)>;

  struct Options {
    std::string path;    // '@' first: abstract (no file, the uid check alone guards it)
    long owner_uid = 0;  // the relay's effective uid; root is allowed too
    ForwardCheck check_forward;
    std::size_t max_connections = 8;
    std::chrono::milliseconds idle_timeout{30000};
  };

  // Listens at once; throws std::runtime_error with a clear message (path
  // in use by a live process, bind failed).
  ControlServer(io::EventLoop& loop, relay::Relay& relay, Options options);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  const std::string& path() const { return options_.path; }
  std::size_t connection_count() const { return connections_.size(); }

  // One request line (without its '\n') -> one reply line (without it).
  std::string handle(std::string_view line);

 private:
  class Listener;
  class Connection;

  void accept(io::Fd fd);
  void close(Connection& connection);

  io::EventLoop& loop_;
  relay::Relay& relay_;
  Options options_;
  io::PrivateUnixListener socket_;
  std::unique_ptr<Listener> listener_;
  io::AcceptPause accept_;  // after socket_: leaves the loop before it closes
  std::map<Connection*, std::unique_ptr<Connection>> connections_;
};

}  // namespace rtether::control
