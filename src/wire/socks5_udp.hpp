// The UDP request header of SOCKS5 (RFC 1928 7), in front of every datagram
// between the client and the proxy's UDP relay port:
//
//   RSV (2 bytes, 0)  FRAG (1)  ATYP  DST.ADDR  DST.PORT  DATA
//
// toward the proxy DST is the datagram's destination; from the proxy it is
// the source the datagram came from. Fragmentation is not implemented, so a
// datagram with FRAG other than 0 is dropped, as RFC 1928 7 requires of
// such an implementation. Addresses are IPv4 or IPv6 (a domain name from
// the proxy is not an answer of any destination the relay sent to).
#pragma once

#include <optional>

#include "wire/socks5_client.hpp"

namespace rtether::wire {

struct Socks5UdpDatagram {
  Socks5Address peer;
  Bytes payload;
};

// Bytes of the header in front of a datagram to or from an address of
// `version`.
std::size_t socks5_udp_header_size(IpVersion version);
// Writes the header at the start of `out` (socks5_udp_header_size bytes);
// returns its size, 0 when `out` is too small.
std::size_t write_socks5_udp_header(MutableBytes out, const Socks5Address& destination);
// A datagram from the proxy: nullopt when truncated, RSV not zero, FRAG not
// zero, or the address type is not IPv4/IPv6.
std::optional<Socks5UdpDatagram> parse_socks5_udp(Bytes datagram);

}  // namespace rtether::wire
