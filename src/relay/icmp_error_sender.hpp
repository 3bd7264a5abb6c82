// IcmpErrorSender: the one way ICMP errors reach the device (unreachable,
// prohibited, packet too big), for flows whose host socket reported one and
// for the session when a device packet cannot be passed on at all.
//
// An error goes from `from` (the address the device's packet went to, as a
// router or the host there would send it) to `to` (the device), quoting the
// start of the device's packet so the device can match it to its socket.
// It uses the output's control reserve (counted when even that is full).
// Withheld, and counted, when `from` is broadcast or multicast (RFC 1122
// 3.2.2, RFC 4443 2.4 (e.3)) or over the rate limit (RFC 4443 2.4 (f),
// RFC 1812 4.3.2.8: config icmp_error_interval and icmp_error_burst).
#pragma once

#include <cstdint>

#include "io/event_loop.hpp"
#include "wire/icmp_error.hpp"
#include "wire/ip_packet.hpp"

namespace rtether::relay {

class FlowContext;

class IcmpErrorSender {
 public:
  explicit IcmpErrorSender(FlowContext& context) : context_(context) {}

  // True when sent.
  bool send(wire::IcmpErrorKind kind, std::uint32_t mtu, const wire::IpAddress& from,
            const wire::IpAddress& to, wire::Bytes quote);
  // The device packet `packet` cannot be passed on: answers it with `kind`
  // unless it may not be answered with an error (RFC 1122 3.2.2: never
  // about an ICMP error, a broadcast, ...).
  void answer(const wire::IpPacket& packet, wire::IcmpErrorKind kind);

 private:
  // One error may go out now under the rate limit (taken if so).
  bool take_slot();

  FlowContext& context_;
  // The rate limit (GCRA): when the next error would be due if they came at
  // exactly the configured rate; up to burst - 1 intervals ahead of now are
  // allowed.
  io::Time due_{};
};

}  // namespace rtether::relay
