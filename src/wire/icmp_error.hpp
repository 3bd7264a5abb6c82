// ICMP and ICMPv6 error messages toward the device, quoting the packet that
// caused them (RFC 792, RFC 1812 4.3.2.3, RFC 4443 2.4 and 3), and the rule
// for which packets may be answered with an error at all (RFC 1122 3.2.2,
// RFC 4443 2.4 (e)). No I/O, no allocation.
//
// The kinds are version independent; each maps to one type and code per
// version:
//   kind              ICMPv4 (type 3 unless noted)    ICMPv6
//   NetUnreachable    code 0                          type 1 code 0 (no route)
//   HostUnreachable   code 1                          type 1 code 3 (address unreachable)
//   PortUnreachable   code 3                          type 1 code 4
//   AdminProhibited   code 13                         type 1 code 1
//   PacketTooBig      code 4, next-hop MTU in 16 bits type 2 code 0, MTU in 32 bits
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "wire/bytes.hpp"
#include "wire/ip_address.hpp"
#include "wire/ip_packet.hpp"

namespace rtether::wire {

enum class IcmpErrorKind : std::uint8_t {
  NetUnreachable,
  HostUnreachable,
  PortUnreachable,
  AdminProhibited,
  PacketTooBig,  // IPv4 "fragmentation needed and DF set", IPv6 "packet too big"
};
const char* to_string(IcmpErrorKind kind);

// RFC 1812 4.3.2.3: an ICMPv4 error is at most 576 bytes; RFC 4443 2.4 (c):
// an ICMPv6 error at most the IPv6 minimum MTU, 1280 bytes.
constexpr std::size_t kIcmpV4ErrorMax = 576;
constexpr std::size_t kIcmpV6ErrorMax = 1280;
// Smallest MTUs the protocols allow (RFC 791: 68; RFC 8200 5: 1280); a
// "too big" report never announces less.
constexpr std::uint32_t kMinMtuV4 = 68;
constexpr std::uint32_t kMinMtuV6 = 1280;

struct IcmpErrorHeader {
  IpAddress source;       // who reports (the relay uses what the device addressed)
  IpAddress destination;  // the device: the offending packet's source
  IcmpErrorKind kind = IcmpErrorKind::HostUnreachable;
  std::uint32_t mtu = 0;  // PacketTooBig only; raised to the protocol minimum
  std::uint8_t ttl = 64;
};

// Total size of the error for an offending packet of `offending_size` bytes:
// it quotes as much of the packet as fits in the size limit above.
std::size_t icmp_error_size(IpVersion version, std::size_t offending_size);

// Writes the IP header, ICMP header and the quoted start of `offending` (cut
// to the limit), checksums filled in. Returns the packet length, or 0 when
// `out` is too small or the header's addresses differ in version.
std::size_t build_icmp_error(MutableBytes out, const IcmpErrorHeader& header, Bytes offending);

// The limited broadcast 255.255.255.255 or 224.0.0.0/4 (IPv4), ff00::/8
// (IPv6): addresses that name no single host.
bool is_broadcast_or_multicast(const IpAddress& address);

// RFC 1122 3.2.2 / RFC 4443 2.4 (e): never answer an ICMP error (or an
// unknown ICMP type) with an error, nor a fragment other than the first,
// nor a packet from an unspecified, multicast or broadcast source, nor one
// sent to a multicast or broadcast destination (IPv6 allows Packet Too Big
// there, RFC 4443 2.4 (e.3)).
bool may_answer_with_error(const IpPacket& packet, IcmpErrorKind kind);
// The destination part of that rule: may an error of `kind` report on a
// packet that was sent to `destination`?
bool may_report_error_for(const IpAddress& destination, IcmpErrorKind kind);

// What an ICMP/ICMPv6 error says, read back into the version-independent
// kind (for errors the relay receives and re-emits, and for tests); nullopt
// for messages that are not one of the kinds above.
struct IcmpErrorSummary {
  IcmpErrorKind kind;
  std::uint32_t mtu = 0;
};
std::optional<IcmpErrorSummary> classify_icmp_error(IpVersion version, std::uint8_t type,
                                                    std::uint8_t code, std::uint32_t rest);

}  // namespace rtether::wire
