// LinuxForwardingPort: the daemon's ForwardingPort on Linux: the relay link
// (device::connect_relay) and the TunForwarder, both cancelled by the
// management server's interrupt fd, plus --ready-fd.
#pragma once

#include <cstdint>
#include <vector>

#include "daemon/forwarding_port.hpp"
#include "daemon/ready_fd.hpp"

namespace rtether::daemon {

class LinuxForwardingPort final : public ForwardingPort {
 public:
  // `interrupt_fd` (borrowed) is readable while a signal is pending.
  // `secret`: the relay's --secret (empty: none).
  LinuxForwardingPort(device::RelayAddress relay, int interrupt_fd, device::TunForwarder& forwarder,
                      ReadyFd& ready, std::vector<std::uint8_t> secret = {});

  std::optional<device::RelayConnection> connect(const device::BeforeConnect& before_connect,
                                                 std::string& error) override;
  std::string tun_name(int fd) override;
  void use_tun(int fd, bool ipv6) override;
  device::SessionEnd forward(int stream_fd) override;
  void announce_ready(const std::string& tun_name) override { ready_.announce(tun_name); }
  Clock::time_point now() override { return Clock::now(); }

 private:
  device::RelayAddress relay_;
  int interrupt_fd_;
  device::TunForwarder& forwarder_;
  ReadyFd& ready_;
  std::vector<std::uint8_t> secret_;
};

}  // namespace rtether::daemon
