// The SOCKS5 UDP request header: see socks5_udp.hpp.
#include "wire/socks5_udp.hpp"

namespace rtether::wire {

std::size_t socks5_udp_header_size(IpVersion version) { return 3 + socks5_address_size(version); }

std::size_t write_socks5_udp_header(MutableBytes out, const Socks5Address& destination) {
  const std::size_t size = socks5_udp_header_size(destination.address.version);
  if (out.size() < size) return 0;
  out[0] = 0;
  out[1] = 0;
  out[2] = 0;  // FRAG: a whole datagram
  write_socks5_address(out.subspan(3), destination);
  return size;
}

std::optional<Socks5UdpDatagram> parse_socks5_udp(Bytes datagram) {
  if (datagram.size() < 4 || datagram[0] != 0 || datagram[1] != 0 || datagram[2] != 0)
    return std::nullopt;
  IpVersion version;
  if (datagram[3] == socks5_atyp::kIpv4)
    version = IpVersion::V4;
  else if (datagram[3] == socks5_atyp::kIpv6)
    version = IpVersion::V6;
  else
    return std::nullopt;
  const std::size_t size = socks5_udp_header_size(version);
  if (datagram.size() < size) return std::nullopt;
  const std::uint8_t* address = datagram.data() + 4;
  Socks5UdpDatagram parsed;
  parsed.peer.address =
      version == IpVersion::V4 ? IpAddress::v4_from(address) : IpAddress::v6_from(address);
  parsed.peer.port = load_be16(datagram.data() + size - 2);
  parsed.payload = datagram.subspan(size);
  return parsed;
}

}  // namespace rtether::wire
