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
// connections are closed and datagrams dropped (counted). The listeners are
// on the relay's first loop; the device's session may be on another one
// (relay.hpp, Threads): the finder runs what needs the session there and
// waits for it.
// Rules are added at start-up (--forward) or at run time (`rtether forward
// add|remove`, control/): each has an id, from 1, that its flows carry, so
// removing a rule closes its listener at once and ends its flows.
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
  // Runs `use` with the session a rule names (serial, client id, else the
  // most recent) on that session's loop and waits for it; false when there
  // is no such session (`use` not run). `spread` picks among the sessions
  // of one device on a multi-queue tun (Relay::attach_queues): each TCP
  // connection the next, each UDP peer by its port.
  using SessionFinder =
      std::function<bool(const ForwardRule&, std::uint32_t spread,
                         const std::function<void(ClientSession&)>& use)>;
  PortForwarder(io::EventLoop& loop, SessionFinder find_session);
  ~PortForwarder();

  // Listens for the rule and returns its id; throws std::system_error when
  // the port is taken, std::invalid_argument when a rule of the same
  // protocol already listens on that address and port (a UDP port would
  // otherwise be shared through SO_REUSEPORT).
  std::uint32_t add(const ForwardRule& rule);
  // Stops listening for the rule equal to `rule` (same canonical text) and
  // returns its id, for the sessions to end its flows; nullopt when none is.
  std::optional<std::uint32_t> remove(const ForwardRule& rule);
  std::vector<ForwardRule> rules() const;  // in the order added
  const Counters& counters() const { return counters_; }  // drops with no session to count on

 private:
  class Listener;
  class TcpListener;
  class UdpListener;

  io::EventLoop& loop_;
  SessionFinder find_session_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::uint32_t next_id_ = 1;
  Counters counters_;
};

}  // namespace rtether::relay
