// Checked views over IPv4 and IPv6 packets and the version-independent
// IpPacket summary the relay works with.
//
// parse_ip() validates every length once (IPv4: version, IHL >= 5, total
// length >= IHL*4 and <= the bytes given; IPv6: payload length within the
// bytes given, extension headers walked to the transport header). After a
// successful parse, header and payload are in bounds by construction. Bytes
// after the IP total length (link padding) are ignored. Header fields are
// read through the tables in wire/field.hpp.
#pragma once

#include <cstdint>
#include <optional>

#include "wire/bytes.hpp"
#include "wire/field.hpp"
#include "wire/ip_address.hpp"

namespace rtether::wire {

// IANA protocol numbers (https://www.iana.org/assignments/protocol-numbers).
namespace ip_protocol {
constexpr std::uint8_t kHopByHop = 0;
constexpr std::uint8_t kIcmp = 1;
constexpr std::uint8_t kTcp = 6;
constexpr std::uint8_t kUdp = 17;
constexpr std::uint8_t kRouting = 43;
constexpr std::uint8_t kFragment = 44;
constexpr std::uint8_t kEsp = 50;
constexpr std::uint8_t kAuth = 51;
constexpr std::uint8_t kIcmpv6 = 58;
constexpr std::uint8_t kNoNext = 59;
constexpr std::uint8_t kDestOptions = 60;
}  // namespace ip_protocol

constexpr std::size_t kMaxPacket = 65535;  // largest IPv4 total length

enum class IpError : std::uint8_t {
  None,
  Truncated,           // fewer bytes than the header claims
  BadVersion,          // version nibble neither 4 nor 6
  BadHeaderLength,     // IPv4 IHL < 5
  BadTotalLength,      // IPv4 total length < header length
  BadExtensionHeader,  // IPv6 extension chain runs past the packet
};
const char* to_string(IpError error);

// How a fragment sits in the packet it was cut from, as its header says:
// the IPv4 flags and fragment offset (RFC 791 section 3.1) or the IPv6
// fragment header (RFC 8200 section 4.5). Only the first fragment (offset
// 0) starts with the transport header.
struct IpFragment {
  std::uint16_t offset = 0;  // of this fragment's data, in bytes (a multiple of 8)
  bool more_fragments = false;
  std::uint32_t identification = 0;  // IPv4: 16 bits; IPv6: 32 bits
  bool is_first() const { return offset == 0; }
};

struct IpPacket {
  IpVersion version = IpVersion::V4;
  std::uint8_t protocol = 0;  // transport protocol after IPv6 extension headers
  std::uint8_t ttl = 0;       // IPv4 TTL or IPv6 hop limit
  IpAddress source;
  IpAddress destination;
  // Set for IPv4 with MF or a nonzero offset, and for IPv6 with a fragment
  // header. For a later IPv6 fragment the extension walk stops at the
  // fragment header: protocol is its next header, payload the fragment data.
  std::optional<IpFragment> fragment;
  Bytes packet;               // whole packet (total length, padding excluded)
  Bytes header;               // IP header including options / extension headers
  Bytes payload;              // transport header + data
};

struct IpParseResult {
  std::optional<IpPacket> packet;
  IpError error = IpError::None;
};

IpParseResult parse_ip(Bytes data);

// Length of the IP packet at the front of `data` from its own header, or
// nullopt if fewer than the bytes needed to know it are present. Used by the
// stream framer; does not validate beyond the length fields.
struct IpLengthResult {
  std::size_t length = 0;  // 0 when more bytes are needed
  IpError error = IpError::None;
};
IpLengthResult ip_packet_length(Bytes data);

}  // namespace rtether::wire
