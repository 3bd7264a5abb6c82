// tcp::SynOptions and negotiate(): the options a SYN carries (MSS, RFC 9293
// 3.7.1; window scale, RFC 7323 2) and what a connection uses once both SYNs
// are seen. Written once for both opens: the passive open answers the
// device's SYN with SynOptions::answer(), the active open sends
// SynOptions::offer(); either way negotiate() turns our options and the
// device's into the same result.
#pragma once

#include <cstdint>
#include <optional>

#include "wire/transport.hpp"

namespace rtether::tcp {

constexpr std::uint16_t kDefaultMss = 536;  // RFC 9293 3.7.1: MSS assumed without the option

// What our SYN or SYN-ACK carries.
struct SynOptions {
  std::uint16_t mss = kDefaultMss;
  std::optional<std::uint8_t> window_scale;  // our shift, when we offer scaling

  // Our SYN (active open): our MSS and the smallest shift that lets the
  // whole receive buffer be advertised (RFC 7323 2.3).
  static SynOptions offer(std::uint16_t mss, std::uint32_t receive_buffer);
  // Our SYN-ACK to the device's SYN (passive open): the same, with window
  // scale only if the device offered it (RFC 7323 1.3: scaling is on only
  // when both SYNs carry the option, and a SYN-ACK may carry it only then).
  static SynOptions answer(std::uint16_t mss, std::uint32_t receive_buffer,
                           const wire::TcpOptions& device);
};

// What the connection uses from then on.
struct NegotiatedOptions {
  std::uint16_t send_mss = kDefaultMss;  // largest payload we send
  std::uint8_t send_shift = 0;           // the device's, applied to its non-SYN windows
  std::uint8_t receive_shift = 0;        // ours, applied to our non-SYN windows
};

// From our SYN's options and those of the device's SYN (or SYN-ACK).
NegotiatedOptions negotiate(const SynOptions& ours, const wire::TcpOptions& device);

}  // namespace rtether::tcp
