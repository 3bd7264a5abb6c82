// LinuxForwardingPort; see linux_forwarding_port.hpp.
#include "daemon/linux_forwarding_port.hpp"

#include "device/tun_device.hpp"
#include "io/log.hpp"

namespace rtether::daemon {
namespace {

// A relay that accepts and then says nothing (adb reverse with nothing
// behind it) must not hold the attempt for ever.
constexpr int kConnectTimeoutMs = 10000;

}  // namespace

LinuxForwardingPort::LinuxForwardingPort(device::RelayAddress relay, int interrupt_fd,
                                         device::TunForwarder& forwarder, ReadyFd& ready,
                                         std::vector<std::uint8_t> secret)
    : relay_(std::move(relay)),
      interrupt_fd_(interrupt_fd),
      forwarder_(forwarder),
      ready_(ready),
      secret_(std::move(secret)) {}

std::optional<device::RelayConnection> LinuxForwardingPort::connect(
    const device::BeforeConnect& before_connect, std::string& error) {
  return device::connect_relay(relay_, interrupt_fd_, kConnectTimeoutMs, error, before_connect,
                               secret_);
}

std::string LinuxForwardingPort::tun_name(int fd) { return device::tun_name_of(fd); }

void LinuxForwardingPort::use_tun(int fd, bool ipv6) {
  forwarder_.set_tun(fd);
  forwarder_.set_ipv6(ipv6);
}

device::SessionEnd LinuxForwardingPort::forward(int stream_fd) {
  auto end = forwarder_.run(stream_fd, interrupt_fd_);
  const auto& counters = forwarder_.counters();
  log::debug(
      "totals: {} packets / {} bytes to relay, {} packets / {} bytes to tun, {} dropped, "
      "{} not IPv4 dropped",
      counters.packets_to_relay.load(), counters.bytes_to_relay.load(),
      counters.packets_to_tun.load(), counters.bytes_to_tun.load(), counters.tun_write_drops.load(),
      counters.non_ipv4_drops.load());
  return end;
}

}  // namespace rtether::daemon
