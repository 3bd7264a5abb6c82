// ForwardingPort: what the daemon drives besides its management interface:
// the relay link (connect, client id), the tun it was handed and the packet
// forwarder between the two, the supervisor's --ready-fd, and the clock.
// LinuxForwardingPort is the real one (device/); tests use a scripted fake.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "device/relay_link.hpp"
#include "device/tun_forwarder.hpp"

namespace rtether::daemon {

class ForwardingPort {
 public:
  using Clock = std::chrono::steady_clock;
  virtual ~ForwardingPort() = default;

  // Connects to the relay and reads the client id; `before_connect` sees
  // each socket before it connects. nullopt with the reason in `error` when
  // the relay cannot be reached, or when a signal cut the attempt short.
  virtual std::optional<device::RelayConnection> connect(
      const device::BeforeConnect& before_connect, std::string& error) = 0;
  // The interface name of the tun `fd` is; empty if it is not a tun.
  virtual std::string tun_name(int fd) = 0;
  // Forwards on this tun (borrowed; the daemon keeps it open) from now on;
  // without `ipv6` only IPv4 packets go to the relay.
  virtual void use_tun(int fd, bool ipv6) = 0;
  // Forwards between the tun and the relay stream until the relay goes or
  // a signal arrives (SessionEnd::Reason::Cancelled).
  virtual device::SessionEnd forward(int stream_fd) = 0;
  // Tells a supervising process that the tun is up and connected (once).
  virtual void announce_ready(const std::string& tun_name) = 0;
  virtual Clock::time_point now() = 0;
};

}  // namespace rtether::daemon
