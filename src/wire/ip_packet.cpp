// IPv4 and IPv6 header validation (parse_ip) and the length peek the stream
// framer uses (ip_packet_length).
//
// parse_ip checks every length once and hands out spans that are in bounds
// by construction. For IPv6 it walks the extension headers the relay may see
// on ordinary traffic and stops at the first header it does not know as an
// extension, which becomes IpPacket::protocol.
#include "wire/ip_packet.hpp"

namespace rtether::wire {
namespace {

// IPv4 header fields (RFC 791 section 3.1), byte offsets.
constexpr std::size_t kV4TotalLength = 2;
constexpr std::size_t kV4FlagsFragment = 6;
constexpr std::size_t kV4Ttl = 8;
constexpr std::size_t kV4Protocol = 9;
constexpr std::size_t kV4Source = 12;
constexpr std::size_t kV4Destination = 16;
constexpr std::uint16_t kV4MoreFragments = 0x2000;
constexpr std::uint16_t kV4FragmentOffsetMask = 0x1FFF;
constexpr std::size_t kV4LengthBytesNeeded = 4;  // version..total length

// IPv6 header fields (RFC 8200 section 3), byte offsets.
constexpr std::size_t kV6PayloadLength = 4;
constexpr std::size_t kV6NextHeader = 6;
constexpr std::size_t kV6HopLimit = 7;
constexpr std::size_t kV6Source = 8;
constexpr std::size_t kV6Destination = 24;
constexpr std::size_t kV6LengthBytesNeeded = 6;  // version..payload length

// Extension headers (RFC 8200 section 4; AH: RFC 4302 section 2.2).
constexpr std::size_t kExtensionMinimum = 2;       // next header + length
constexpr std::size_t kExtensionUnit = 8;          // hdr ext len is in 8-byte units, not counting the first 8
constexpr std::size_t kFragmentHeader = 8;         // RFC 8200 section 4.5, fixed size
constexpr std::uint16_t kV6FragmentOffsetMask = 0xFFF8;
constexpr std::size_t kAuthUnit = 4;               // AH payload len is in 4-byte units, minus 2
constexpr std::size_t kAuthLengthBias = 2;

std::uint8_t version_nibble(Bytes data) { return data[0] >> 4; }

bool is_extension_header(std::uint8_t next_header) {
  switch (next_header) {
    case ip_protocol::kHopByHop:
    case ip_protocol::kRouting:
    case ip_protocol::kFragment:
    case ip_protocol::kDestOptions:
    case ip_protocol::kAuth:
      return true;
    default:
      return false;
  }
}

// Size in bytes of an extension header from its type and its length byte.
std::size_t extension_length(std::uint8_t next_header, std::uint8_t length_field) {
  switch (next_header) {
    case ip_protocol::kFragment: return kFragmentHeader;
    case ip_protocol::kAuth: return (length_field + kAuthLengthBias) * kAuthUnit;
    default: return (length_field + 1u) * kExtensionUnit;
  }
}

IpParseResult fail(IpError error) { return {std::nullopt, error}; }

IpParseResult parse_v4(Bytes data) {
  if (data.size() < kIpv4MinHeader) return fail(IpError::Truncated);
  const std::size_t header_length = (data[0] & 0x0F) * 4u;
  if (header_length < kIpv4MinHeader) return fail(IpError::BadHeaderLength);
  const std::size_t total_length = load_be16(data.data() + kV4TotalLength);
  if (total_length < header_length) return fail(IpError::BadTotalLength);
  if (total_length > data.size()) return fail(IpError::Truncated);

  const std::uint16_t fragment_field = load_be16(data.data() + kV4FlagsFragment);
  IpPacket packet;
  packet.version = IpVersion::V4;
  packet.protocol = data[kV4Protocol];
  packet.ttl = data[kV4Ttl];
  packet.source = IpAddress::v4_from(data.data() + kV4Source);
  packet.destination = IpAddress::v4_from(data.data() + kV4Destination);
  packet.fragment = (fragment_field & (kV4MoreFragments | kV4FragmentOffsetMask)) != 0;
  packet.packet = data.first(total_length);
  packet.header = packet.packet.first(header_length);
  packet.payload = packet.packet.subspan(header_length);
  return {packet, IpError::None};
}

IpParseResult parse_v6(Bytes data) {
  if (data.size() < kIpv6Header) return fail(IpError::Truncated);
  const std::size_t total_length = kIpv6Header + load_be16(data.data() + kV6PayloadLength);
  if (total_length > data.size()) return fail(IpError::Truncated);
  const Bytes whole = data.first(total_length);

  IpPacket packet;
  packet.version = IpVersion::V6;
  packet.ttl = data[kV6HopLimit];
  packet.source = IpAddress::v6_from(data.data() + kV6Source);
  packet.destination = IpAddress::v6_from(data.data() + kV6Destination);

  std::uint8_t next = data[kV6NextHeader];
  std::size_t offset = kIpv6Header;
  // Each step advances by at least 8 bytes, so the walk is bounded by the
  // packet length.
  while (is_extension_header(next)) {
    const Bytes rest = whole.subspan(offset);
    if (rest.size() < kExtensionMinimum) return fail(IpError::BadExtensionHeader);
    const std::size_t length = extension_length(next, rest[1]);
    if (rest.size() < length) return fail(IpError::BadExtensionHeader);
    const bool is_fragment = next == ip_protocol::kFragment;
    next = rest[0];
    offset += length;
    if (is_fragment) {
      packet.fragment = true;
      // Only the first fragment (offset 0) starts with the next header;
      // later ones carry the middle of a payload, so the walk stops there.
      if ((load_be16(rest.data() + 2) & kV6FragmentOffsetMask) != 0) break;
    }
  }

  packet.protocol = next;
  packet.packet = whole;
  packet.header = whole.first(offset);
  packet.payload = whole.subspan(offset);
  return {packet, IpError::None};
}

}  // namespace

const char* to_string(IpError error) {
  switch (error) {
    case IpError::None: return "no error";
    case IpError::Truncated: return "truncated packet";
    case IpError::BadVersion: return "bad IP version";
    case IpError::BadHeaderLength: return "bad IPv4 header length";
    case IpError::BadTotalLength: return "bad IP total length";
    case IpError::BadExtensionHeader: return "bad IPv6 extension header chain";
  }
  return "unknown IP error";
}

IpParseResult parse_ip(Bytes data) {
  if (data.empty()) return fail(IpError::Truncated);
  switch (version_nibble(data)) {
    case 4: return parse_v4(data);
    case 6: return parse_v6(data);
    default: return fail(IpError::BadVersion);
  }
}

IpLengthResult ip_packet_length(Bytes data) {
  if (data.empty()) return {};
  switch (version_nibble(data)) {
    case 4: {
      if (data.size() < kV4LengthBytesNeeded) return {};
      const std::size_t total_length = load_be16(data.data() + kV4TotalLength);
      if (total_length < kIpv4MinHeader) return {0, IpError::BadTotalLength};
      return {total_length, IpError::None};
    }
    case 6: {
      if (data.size() < kV6LengthBytesNeeded) return {};
      return {kIpv6Header + load_be16(data.data() + kV6PayloadLength), IpError::None};
    }
    default: return {0, IpError::BadVersion};
  }
}

}  // namespace rtether::wire
