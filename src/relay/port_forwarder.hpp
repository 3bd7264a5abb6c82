// PortForwarder: host -> device port forwarding (`rtether relay --forward`).
//
// One listener per rule on the host (loopback unless the rule binds wider).
// TCP: each accepted connection becomes a TcpFlow of the chosen device's
// session that opens the device side itself (the relay sends the SYN to
// DEVICEPORT from 10.0.2.2 and a port of its own) and then bridges like any
// other flow. UDP: each host peer becomes a UdpFlow whose host socket is
// bound to the forward's port and connected to that peer; the device sees
// the peer as 10.0.2.2 and a port of the relay's.
// The device is the rule's adb serial (its most recent client), or its
// client id, or else the most recently connected one; with no such device,
// connections are closed and datagrams dropped (counted).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "io/event_loop.hpp"
#include "io/socket.hpp"
#include "relay/counters.hpp"
#include "relay/flow_key.hpp"
#include "relay/forward_rule.hpp"

namespace rtether::relay {

class ClientSession;

class PortForwarder {
 public:
  // Finds the session a rule names (serial, client id, else the most
  // recent), or null.
  using SessionFinder = std::function<ClientSession*(const ForwardRule&)>;
  PortForwarder(io::EventLoop& loop, SessionFinder find_session);
  ~PortForwarder();

  // Start-up configuration: throws std::system_error when the port is taken.
  void add(const ForwardRule& rule);
  const Counters& counters() const { return counters_; }  // drops with no session to count on

 private:
  class Listener;
  class TcpListener;
  class UdpListener;

  io::EventLoop& loop_;
  SessionFinder find_session_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  Counters counters_;
};

}  // namespace rtether::relay
