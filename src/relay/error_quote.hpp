// ErrorQuote: the start of the last packet a flow sent on for the device
// (IP header plus the first transport bytes), kept so that an ICMP error the
// host reports later can quote it back to the device, which matches the
// error to its socket from exactly these bytes (RFC 792: IP header + 64 bits).
// Fixed size, no allocation: a few dozen bytes per datagram flow.
//
// report_host_errors() drains a host socket's error queue (IP_RECVERR) and
// turns each entry into an ICMP error toward the device.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <system_error>

#include "io/socket_errors.hpp"
#include "relay/flow_key.hpp"
#include "wire/icmp_error.hpp"
#include "wire/ip_packet.hpp"

namespace rtether::relay {

class FlowContext;

class ErrorQuote {
 public:
  // IPv4 header with options (60) + 8, or IPv6 header with a few extension
  // headers; longer headers are cut (the kernel then may not match it).
  static constexpr std::size_t kCapacity = 128;
  static constexpr std::size_t kTransportBytes = 8;

  void remember(const wire::IpPacket& packet) {
    size_ = std::min({packet.packet.size(), packet.header.size() + kTransportBytes, kCapacity});
    std::memcpy(bytes_.data(), packet.packet.data(), size_);
  }
  wire::Bytes bytes() const { return {bytes_.data(), size_}; }
  bool empty() const { return size_ == 0; }

 private:
  std::array<std::uint8_t, kCapacity> bytes_{};
  std::size_t size_ = 0;
};

// Reads every queued error of `fd` and sends the device one ICMP error per
// entry that maps to one (others are counted), quoting `quote`. The error
// comes from the address the device sent to (key.destination). Returns how
// many errors were sent.
int report_host_errors(FlowContext& context, int fd, const FlowKey& key, const ErrorQuote& quote);

// The ICMP error for a failed send or connect, if one fits: connection
// refused -> port unreachable, host unreachable (or down) -> host
// unreachable, network unreachable (or down) -> net unreachable, permission
// denied / not permitted -> administratively prohibited, message too long
// -> packet too big.
std::optional<wire::IcmpErrorKind> icmp_error_for(const std::error_code& error);

// A path MTU the host reports for a socket of IP version `host`, as the
// device's packets of version `device` see it (an IPv6 header is 20 bytes
// longer than an IPv4 one); 0 stays 0 (unknown).
std::uint32_t device_path_mtu(std::uint32_t host_mtu, wire::IpVersion host,
                              wire::IpVersion device);

// After a failed send on a datagram socket: reports the queued errors, or,
// when the kernel queued none (a routing failure, say), the error the send
// itself returned. The MTU comes from the socket (io::path_mtu).
void report_send_failure(FlowContext& context, int fd, const FlowKey& key,
                         const ErrorQuote& quote, const std::error_code& error);

}  // namespace rtether::relay
