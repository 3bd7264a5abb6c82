// tcp::Segment and tcp::OutSegment: the parsed values the tcp/ state
// machines take and give back, in place of wire bytes (smoltcp's TcpRepr):
// a device segment's fields, and the header fields of one toward the device.
#pragma once

#include <cstdint>
#include <optional>

#include "tcp/seq_number.hpp"
#include "wire/bytes.hpp"
#include "wire/transport.hpp"

namespace rtether::tcp {

// One segment from the device, already parsed by the relay.
struct Segment {
  SeqNumber seq;
  SeqNumber ack;
  std::uint8_t flags = 0;   // wire::tcp_flag bits
  std::uint16_t window = 0;  // raw field, unscaled
  wire::TcpOptions options;  // only meaningful on SYN
  wire::Bytes payload;

  static Segment from(const wire::TcpView& view);
};

// Header fields of a segment toward the device; the relay adds addresses,
// ports and payload (wire::TcpSegmentHeader).
struct OutSegment {
  SeqNumber seq;
  SeqNumber ack;
  std::uint8_t flags = 0;
  std::uint16_t window = 0;  // already scaled down
  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> window_scale;
};

}  // namespace rtether::tcp
