// ICMP error builder and classification; see icmp_error.hpp for the table.
#include "wire/icmp_error.hpp"

#include <algorithm>
#include <cstring>

#include "wire/packet_builder.hpp"
#include "wire/transport.hpp"

namespace rtether::wire {
namespace {

// RFC 792 / RFC 1812 5.2.7.1: destination unreachable codes.
namespace v4_code {
constexpr std::uint8_t kNet = 0;
constexpr std::uint8_t kHost = 1;
constexpr std::uint8_t kProtocol = 2;
constexpr std::uint8_t kPort = 3;
constexpr std::uint8_t kFragmentationNeeded = 4;
constexpr std::uint8_t kNetProhibited = 9;   // RFC 1122 3.2.2.1
constexpr std::uint8_t kHostProhibited = 10;
constexpr std::uint8_t kAdminProhibited = 13;  // RFC 1812 5.2.7.1
}  // namespace v4_code

// RFC 4443 3.1: destination unreachable codes.
namespace v6_code {
constexpr std::uint8_t kNoRoute = 0;
constexpr std::uint8_t kAdminProhibited = 1;
constexpr std::uint8_t kAddressUnreachable = 3;
constexpr std::uint8_t kPortUnreachable = 4;
constexpr std::uint8_t kPolicyFailed = 5;
constexpr std::uint8_t kRejectRoute = 6;
}  // namespace v6_code

// RFC 1191 section 4: the ICMPv4 next-hop MTU is a 16-bit field in the low
// half of the rest of the header (the high half is unused, zero).
constexpr std::uint32_t kMaxNextHopMtu = 0xFFFF;
static_assert(icmp_field::kNextHopMtu.end() == icmp_field::kRestOfHeader.end());
// RFC 4443 3.2: the ICMPv6 MTU is the whole rest of the header.
static_assert(icmp_field::kMtu.offset == icmp_field::kRestOfHeader.offset &&
              icmp_field::kMtu.end() == icmp_field::kRestOfHeader.end());

struct TypeCode {
  std::uint8_t type;
  std::uint8_t code;
  std::uint32_t rest;  // the rest-of-header field
};

TypeCode type_code(IpVersion version, IcmpErrorKind kind, std::uint32_t mtu) {
  if (version == IpVersion::V4) {
    switch (kind) {
      case IcmpErrorKind::NetUnreachable: return {icmp_type::kDestUnreachable, v4_code::kNet, 0};
      case IcmpErrorKind::HostUnreachable: return {icmp_type::kDestUnreachable, v4_code::kHost, 0};
      case IcmpErrorKind::PortUnreachable: return {icmp_type::kDestUnreachable, v4_code::kPort, 0};
      case IcmpErrorKind::AdminProhibited:
        return {icmp_type::kDestUnreachable, v4_code::kAdminProhibited, 0};
      case IcmpErrorKind::PacketTooBig: {
        const std::uint32_t value = std::clamp<std::uint32_t>(mtu, kMinMtuV4, kMaxNextHopMtu);
        return {icmp_type::kDestUnreachable, v4_code::kFragmentationNeeded, value};
      }
    }
  }
  switch (kind) {
    case IcmpErrorKind::NetUnreachable: return {icmp_type::kV6DestUnreachable, v6_code::kNoRoute, 0};
    case IcmpErrorKind::HostUnreachable:
      return {icmp_type::kV6DestUnreachable, v6_code::kAddressUnreachable, 0};
    case IcmpErrorKind::PortUnreachable:
      return {icmp_type::kV6DestUnreachable, v6_code::kPortUnreachable, 0};
    case IcmpErrorKind::AdminProhibited:
      return {icmp_type::kV6DestUnreachable, v6_code::kAdminProhibited, 0};
    case IcmpErrorKind::PacketTooBig:
      return {icmp_type::kV6PacketTooBig, 0, std::max(mtu, kMinMtuV6)};
  }
  return {0, 0, 0};
}

// Where the quoted packet starts in an error of this version.
std::size_t icmp_error_quote_offset(IpVersion version) {
  return ip_header_size(version) + icmp_field::kErrorQuote;
}

// Bytes of the offending packet an error of this version quotes.
std::size_t icmp_error_quote_limit(IpVersion version) {
  return (version == IpVersion::V4 ? kIcmpV4ErrorMax : kIcmpV6ErrorMax) -
         icmp_error_quote_offset(version);
}

bool is_unspecified(const IpAddress& address) {
  return std::all_of(address.bytes.begin(), address.bytes.begin() + address.size(),
                     [](std::uint8_t b) { return b == 0; });
}

bool is_error_type(IpVersion version, std::uint8_t type) {
  if (version == IpVersion::V6) return type < icmp_type::kV6FirstInformational;
  // RFC 792 / RFC 1122 3.2.2: the error messages (and unknown types, which
  // must not be answered either); only echo, timestamp and information
  // queries and replies are not errors.
  switch (type) {
    case icmp_type::kEchoReply:
    case icmp_type::kEchoRequest:
    case icmp_type::kTimestamp:
    case icmp_type::kTimestampReply:
    case icmp_type::kInformationRequest:
    case icmp_type::kInformationReply:
      return false;
    default: return true;
  }
}

}  // namespace

const char* to_string(IcmpErrorKind kind) {
  switch (kind) {
    case IcmpErrorKind::NetUnreachable: return "network unreachable";
    case IcmpErrorKind::HostUnreachable: return "host unreachable";
    case IcmpErrorKind::PortUnreachable: return "port unreachable";
    case IcmpErrorKind::AdminProhibited: return "administratively prohibited";
    case IcmpErrorKind::PacketTooBig: return "packet too big";
  }
  return "unknown";
}

std::size_t icmp_error_size(IpVersion version, std::size_t offending_size) {
  return icmp_error_quote_offset(version) +
         std::min(offending_size, icmp_error_quote_limit(version));
}

std::size_t build_icmp_error(MutableBytes out, const IcmpErrorHeader& header, Bytes offending) {
  const IpVersion version = header.source.version;
  if (header.destination.version != version) return 0;
  const Bytes quote = offending.first(std::min(offending.size(), icmp_error_quote_limit(version)));
  const std::size_t quote_offset = icmp_error_quote_offset(version);
  if (out.size() < quote_offset + quote.size()) return 0;
  if (!quote.empty()) std::memmove(out.data() + quote_offset, quote.data(), quote.size());
  const TypeCode tc = type_code(version, header.kind, header.mtu);
  IcmpMessageHeader message;
  message.source = header.source;
  message.destination = header.destination;
  message.type = tc.type;
  message.code = tc.code;
  message.rest = tc.rest;
  message.ttl = header.ttl;
  return write_icmp_headers(out, message, quote.size());
}

bool is_broadcast_or_multicast(const IpAddress& address) {
  if (address.version == IpVersion::V4) {
    const std::uint32_t value = address.v4_host_order();
    return value == 0xFFFFFFFF || (value >> 28) == 0xE;
  }
  return address.bytes[0] == 0xFF;
}

bool may_report_error_for(const IpAddress& destination, IcmpErrorKind kind) {
  if (!is_broadcast_or_multicast(destination)) return true;
  return destination.version == IpVersion::V6 && kind == IcmpErrorKind::PacketTooBig;
}

bool may_answer_with_error(const IpPacket& packet, IcmpErrorKind kind) {
  if (!may_report_error_for(packet.destination, kind)) return false;
  // Only the first fragment carries the transport header worth quoting.
  if (packet.fragment && !packet.fragment->is_first()) return false;
  if (is_unspecified(packet.source) || is_broadcast_or_multicast(packet.source)) return false;
  if (packet.protocol == ip_protocol::kIcmp || packet.protocol == ip_protocol::kIcmpv6) {
    if (packet.payload.empty()) return false;
    return !is_error_type(packet.version, load(packet.payload.data(), icmp_field::kType));
  }
  return true;
}

std::optional<IcmpErrorSummary> classify_icmp_error(IpVersion version, std::uint8_t type,
                                                    std::uint8_t code, std::uint32_t rest) {
  if (version == IpVersion::V4) {
    if (type != icmp_type::kDestUnreachable) return std::nullopt;
    switch (code) {
      case v4_code::kNet: return IcmpErrorSummary{IcmpErrorKind::NetUnreachable};
      case v4_code::kPort: return IcmpErrorSummary{IcmpErrorKind::PortUnreachable};
      case v4_code::kFragmentationNeeded:
        return IcmpErrorSummary{IcmpErrorKind::PacketTooBig, rest & kMaxNextHopMtu};
      case v4_code::kNetProhibited:
      case v4_code::kHostProhibited:
      case v4_code::kAdminProhibited: return IcmpErrorSummary{IcmpErrorKind::AdminProhibited};
      case v4_code::kProtocol:
      default: return IcmpErrorSummary{IcmpErrorKind::HostUnreachable};
    }
  }
  if (type == icmp_type::kV6PacketTooBig) return IcmpErrorSummary{IcmpErrorKind::PacketTooBig, rest};
  if (type != icmp_type::kV6DestUnreachable) return std::nullopt;
  switch (code) {
    case v6_code::kNoRoute:
    case v6_code::kRejectRoute: return IcmpErrorSummary{IcmpErrorKind::NetUnreachable};
    case v6_code::kAdminProhibited:
    case v6_code::kPolicyFailed: return IcmpErrorSummary{IcmpErrorKind::AdminProhibited};
    case v6_code::kPortUnreachable: return IcmpErrorSummary{IcmpErrorKind::PortUnreachable};
    case v6_code::kAddressUnreachable:
    default: return IcmpErrorSummary{IcmpErrorKind::HostUnreachable};
  }
}

}  // namespace rtether::wire
