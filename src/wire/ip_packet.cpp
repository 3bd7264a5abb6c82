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

// Bytes that must be present before the length fields can be read.
constexpr std::size_t kV4LengthBytesNeeded = ipv4_field::kTotalLength.end();
constexpr std::size_t kV6LengthBytesNeeded = ipv6_field::kPayloadLength.end();
// Next header and length: what every extension header has first.
constexpr std::size_t kExtensionMinimum = ipv6_extension_field::kLength.end();
static_assert(ipv6_fragment_field::kNextHeader.offset == ipv6_extension_field::kNextHeader.offset &&
              ipv6_auth_field::kNextHeader.offset == ipv6_extension_field::kNextHeader.offset &&
              ipv6_auth_field::kPayloadLength.offset == ipv6_extension_field::kLength.offset);

constexpr std::uint8_t kVersion4 = static_cast<std::uint8_t>(IpVersion::V4);
constexpr std::uint8_t kVersion6 = static_cast<std::uint8_t>(IpVersion::V6);

std::uint8_t version_nibble(Bytes data) {
  return load(data.data(), ip_field::kVersion) >> ip_field::kVersionShift;
}

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
    case ip_protocol::kFragment: return ipv6_fragment_field::kLength;
    case ip_protocol::kAuth:
      return (length_field + ipv6_auth_field::kLengthBias) * ipv6_auth_field::kLengthUnit;
    default: return (length_field + 1u) * ipv6_extension_field::kLengthUnit;
  }
}

IpParseResult fail(IpError error) { return {std::nullopt, error}; }

IpParseResult parse_v4(Bytes data) {
  using namespace ipv4_field;
  if (data.size() < kIpv4MinHeader) return fail(IpError::Truncated);
  const std::uint8_t* header = data.data();
  const std::size_t header_length = (load(header, kVersionIhl) & kIhlMask) * kIhlUnit;
  if (header_length < kIpv4MinHeader) return fail(IpError::BadHeaderLength);
  const std::size_t total_length = load(header, kTotalLength);
  if (total_length < header_length) return fail(IpError::BadTotalLength);
  if (total_length > data.size()) return fail(IpError::Truncated);

  IpPacket packet;
  packet.version = IpVersion::V4;
  packet.protocol = load(header, kProtocol);
  packet.ttl = load(header, kTtl);
  packet.source = IpAddress::v4_from(header + kSource.offset);
  packet.destination = IpAddress::v4_from(header + kDestination.offset);
  const std::uint16_t flags_offset = load(header, kFlagsFragmentOffset);
  if ((flags_offset & (kMoreFragments | kFragmentOffsetMask)) != 0) {
    packet.fragment = IpFragment{
        static_cast<std::uint16_t>((flags_offset & kFragmentOffsetMask) * kFragmentOffsetUnit),
        (flags_offset & kMoreFragments) != 0, load(header, kIdentification)};
  }
  packet.packet = data.first(total_length);
  packet.header = packet.packet.first(header_length);
  packet.payload = packet.packet.subspan(header_length);
  return {packet, IpError::None};
}

// The fragment header at `header` (RFC 8200 section 4.5).
IpFragment parse_fragment_header(const std::uint8_t* header) {
  using namespace ipv6_fragment_field;
  const std::uint16_t offset_flags = load(header, kOffsetFlags);
  return IpFragment{static_cast<std::uint16_t>(offset_flags & kOffsetMask),
                    (offset_flags & kMoreFragments) != 0, load(header, kIdentification)};
}

IpParseResult parse_v6(Bytes data) {
  using namespace ipv6_field;
  if (data.size() < kIpv6Header) return fail(IpError::Truncated);
  const std::size_t total_length = kIpv6Header + load(data.data(), kPayloadLength);
  if (total_length > data.size()) return fail(IpError::Truncated);
  const Bytes whole = data.first(total_length);

  IpPacket packet;
  packet.version = IpVersion::V6;
  packet.ttl = load(whole.data(), kHopLimit);
  packet.source = IpAddress::v6_from(whole.data() + kSource.offset);
  packet.destination = IpAddress::v6_from(whole.data() + kDestination.offset);

  std::uint8_t next = load(whole.data(), kNextHeader);
  std::size_t offset = kIpv6Header;
  // Each step advances by at least 8 bytes, so the walk is bounded by the
  // packet length.
  while (is_extension_header(next)) {
    const Bytes rest = whole.subspan(offset);
    if (rest.size() < kExtensionMinimum) return fail(IpError::BadExtensionHeader);
    const std::size_t length =
        extension_length(next, load(rest.data(), ipv6_extension_field::kLength));
    if (rest.size() < length) return fail(IpError::BadExtensionHeader);
    const bool is_fragment = next == ip_protocol::kFragment;
    next = load(rest.data(), ipv6_extension_field::kNextHeader);
    offset += length;
    if (is_fragment) {
      packet.fragment = parse_fragment_header(rest.data());
      // Only the first fragment starts with the next header; later ones
      // carry the middle of a payload, so the walk stops there.
      if (!packet.fragment->is_first()) break;
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
    case kVersion4: return parse_v4(data);
    case kVersion6: return parse_v6(data);
    default: return fail(IpError::BadVersion);
  }
}

IpLengthResult ip_packet_length(Bytes data) {
  if (data.empty()) return {};
  switch (version_nibble(data)) {
    case kVersion4: {
      if (data.size() < kV4LengthBytesNeeded) return {};
      const std::size_t total_length = load(data.data(), ipv4_field::kTotalLength);
      if (total_length < kIpv4MinHeader) return {0, IpError::BadTotalLength};
      return {total_length, IpError::None};
    }
    case kVersion6: {
      if (data.size() < kV6LengthBytesNeeded) return {};
      return {kIpv6Header + load(data.data(), ipv6_field::kPayloadLength), IpError::None};
    }
    default: return {0, IpError::BadVersion};
  }
}

}  // namespace rtether::wire
