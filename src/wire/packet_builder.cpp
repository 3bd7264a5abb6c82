// Builds IPv4/IPv6 packets carrying TCP, UDP or ICMP toward the device.
//
// Headers are written in place in front of a payload that is already in the
// output buffer, so the only pass over the payload is the checksum. The
// transport checksum covers the pseudo header (RFC 9293 section 3.1 for
// IPv4, RFC 8200 section 8.1 for IPv6) plus the transport header and data,
// summed as one contiguous span.
#include "wire/packet_builder.hpp"

#include <cassert>
#include <cstring>

#include "wire/checksum.hpp"
#include "wire/ip_packet.hpp"
#include "wire/transport.hpp"

namespace rtether::wire {
namespace {

// IPv4 header (RFC 791 section 3.1).
constexpr std::uint8_t kV4VersionIhl = 0x45;  // version 4, IHL 5 words (no options)
constexpr std::uint16_t kV4DontFragment = 0x4000;
constexpr std::size_t kV4Checksum = 10;

// IPv6 header (RFC 8200 section 3): version 6, traffic class 0, flow label 0.
constexpr std::uint8_t kV6VersionNibble = 0x60;

// TCP header fields and options (RFC 9293 section 3.1 and 3.2, RFC 7323
// section 2.2, RFC 2018 section 2). Every option is written as one 4-byte
// word so the header stays 32-bit aligned without trailing padding.
constexpr std::size_t kTcpChecksum = 16;
constexpr std::size_t kTcpOptionWord = 4;
constexpr std::uint8_t kOptionNop = 1;
constexpr std::uint8_t kOptionMss = 2;
constexpr std::uint8_t kOptionMssLength = 4;
constexpr std::uint8_t kOptionWindowScale = 3;
constexpr std::uint8_t kOptionWindowScaleLength = 3;
constexpr std::uint8_t kOptionSackPermitted = 4;
constexpr std::uint8_t kOptionSackPermittedLength = 2;

constexpr std::size_t kUdpChecksum = 6;
constexpr std::size_t kIcmpChecksum = 2;

// RFC 768 and RFC 8200 section 8.1: a computed UDP checksum of zero is sent
// as all ones, because zero on the wire means "no checksum".
constexpr std::uint16_t kUdpZeroChecksum = 0xFFFF;

std::size_t tcp_options_size(const TcpSegmentHeader& header) {
  return (header.mss ? kTcpOptionWord : 0) + (header.window_scale ? kTcpOptionWord : 0) +
         (header.sack_permitted ? kTcpOptionWord : 0);
}

std::uint64_t address_sum(const IpAddress& address) {
  return checksum_add(Bytes(address.bytes.data(), address.size()));
}

// Pseudo header sum. The IPv4 form has a 16-bit length, the IPv6 one a
// 32-bit length; both have the zero-padded protocol number, and as a sum of
// 16-bit words the two forms only differ in the high length word.
std::uint64_t pseudo_header_sum(const IpAddress& source, const IpAddress& destination,
                                std::uint8_t protocol, std::size_t length) {
  return address_sum(source) + address_sum(destination) + protocol + (length >> 16) +
         (length & 0xFFFFu);
}

// Writes the IP header at out[0...] for a transport segment of `length`
// bytes; returns the IP header size.
std::size_t write_ip_header(std::uint8_t* out, const IpAddress& source,
                            const IpAddress& destination, std::uint8_t protocol, std::uint8_t ttl,
                            std::size_t length) {
  if (source.version == IpVersion::V4) {
    assert(kIpv4MinHeader + length <= kMaxPacket);
    out[0] = kV4VersionIhl;
    out[1] = 0;  // DSCP/ECN
    store_be16(out + 2, static_cast<std::uint16_t>(kIpv4MinHeader + length));
    store_be16(out + 4, 0);  // identification: unused with DF set (RFC 6864 section 4.1)
    store_be16(out + 6, kV4DontFragment);
    out[8] = ttl;
    out[9] = protocol;
    store_be16(out + kV4Checksum, 0);
    std::memcpy(out + 12, source.bytes.data(), 4);
    std::memcpy(out + 16, destination.bytes.data(), 4);
    store_be16(out + kV4Checksum, internet_checksum(Bytes(out, kIpv4MinHeader)));
    return kIpv4MinHeader;
  }
  assert(length <= kMaxPacket);
  store_be32(out, std::uint32_t{kV6VersionNibble} << 24);
  store_be16(out + 4, static_cast<std::uint16_t>(length));
  out[6] = protocol;
  out[7] = ttl;
  std::memcpy(out + 8, source.bytes.data(), 16);
  std::memcpy(out + 24, destination.bytes.data(), 16);
  return kIpv6Header;
}

std::uint16_t transport_checksum(const IpAddress& source, const IpAddress& destination,
                                 std::uint8_t protocol, Bytes segment) {
  const std::uint64_t sum =
      checksum_add(segment, pseudo_header_sum(source, destination, protocol, segment.size()));
  return static_cast<std::uint16_t>(~checksum_fold(sum));
}

std::uint8_t icmp_protocol(IpVersion version) {
  return version == IpVersion::V4 ? ip_protocol::kIcmp : ip_protocol::kIcmpv6;
}

bool fits(MutableBytes out, std::size_t header_size, IpVersion version, std::size_t payload) {
  const std::size_t transport_length = header_size - ip_header_size(version) + payload;
  const std::size_t limit = version == IpVersion::V4 ? kMaxPacket : kMaxPacket + kIpv6Header;
  return out.size() >= header_size + payload &&
         ip_header_size(version) + transport_length <= limit;
}

}  // namespace

std::size_t ip_header_size(IpVersion version) {
  return version == IpVersion::V4 ? kIpv4MinHeader : kIpv6Header;
}

std::size_t tcp_header_size(const TcpSegmentHeader& header) {
  return ip_header_size(header.source.version) + kTcpMinHeader + tcp_options_size(header);
}

std::size_t udp_header_size(IpVersion version) { return ip_header_size(version) + kUdpHeader; }

std::size_t icmp_header_size(IpVersion version) { return ip_header_size(version) + kIcmpHeader; }

std::size_t write_tcp_headers(MutableBytes out, const TcpSegmentHeader& header,
                              std::size_t payload_length) {
  const std::size_t total = tcp_header_size(header) + payload_length;
  assert(out.size() >= total);
  const std::size_t tcp_length = kTcpMinHeader + tcp_options_size(header);
  const std::size_t segment_length = tcp_length + payload_length;
  const std::size_t ip_length = write_ip_header(out.data(), header.source, header.destination,
                                                ip_protocol::kTcp, header.ttl, segment_length);

  std::uint8_t* tcp = out.data() + ip_length;
  store_be16(tcp, header.source_port);
  store_be16(tcp + 2, header.destination_port);
  store_be32(tcp + 4, header.seq);
  store_be32(tcp + 8, header.ack);
  tcp[12] = static_cast<std::uint8_t>((tcp_length / 4) << 4);
  tcp[13] = header.flags;
  store_be16(tcp + 14, header.window);
  store_be16(tcp + kTcpChecksum, 0);
  store_be16(tcp + 18, 0);  // urgent pointer

  std::uint8_t* option = tcp + kTcpMinHeader;
  if (header.mss) {
    option[0] = kOptionMss;
    option[1] = kOptionMssLength;
    store_be16(option + 2, *header.mss);
    option += kTcpOptionWord;
  }
  if (header.window_scale) {
    option[0] = kOptionNop;
    option[1] = kOptionWindowScale;
    option[2] = kOptionWindowScaleLength;
    option[3] = *header.window_scale;
    option += kTcpOptionWord;
  }
  if (header.sack_permitted) {
    option[0] = kOptionNop;
    option[1] = kOptionNop;
    option[2] = kOptionSackPermitted;
    option[3] = kOptionSackPermittedLength;
  }

  store_be16(tcp + kTcpChecksum,
             transport_checksum(header.source, header.destination, ip_protocol::kTcp,
                                Bytes(tcp, segment_length)));
  return total;
}

std::size_t write_udp_headers(MutableBytes out, const UdpDatagramHeader& header,
                              std::size_t payload_length) {
  const std::size_t total = udp_header_size(header.source.version) + payload_length;
  assert(out.size() >= total);
  const std::size_t datagram_length = kUdpHeader + payload_length;
  const std::size_t ip_length = write_ip_header(out.data(), header.source, header.destination,
                                                ip_protocol::kUdp, header.ttl, datagram_length);

  std::uint8_t* udp = out.data() + ip_length;
  store_be16(udp, header.source_port);
  store_be16(udp + 2, header.destination_port);
  store_be16(udp + 4, static_cast<std::uint16_t>(datagram_length));
  store_be16(udp + kUdpChecksum, 0);
  std::uint16_t checksum = transport_checksum(header.source, header.destination,
                                              ip_protocol::kUdp, Bytes(udp, datagram_length));
  if (checksum == 0) checksum = kUdpZeroChecksum;
  store_be16(udp + kUdpChecksum, checksum);
  return total;
}

std::size_t write_icmp_headers(MutableBytes out, const IcmpMessageHeader& header,
                               std::size_t payload_length) {
  const IpVersion version = header.source.version;
  const std::size_t total = icmp_header_size(version) + payload_length;
  assert(out.size() >= total);
  const std::size_t message_length = kIcmpHeader + payload_length;
  const std::uint8_t protocol = icmp_protocol(version);
  const std::size_t ip_length = write_ip_header(out.data(), header.source, header.destination,
                                                protocol, header.ttl, message_length);

  std::uint8_t* icmp = out.data() + ip_length;
  icmp[0] = header.type;
  icmp[1] = header.code;
  store_be16(icmp + kIcmpChecksum, 0);
  store_be32(icmp + 4, header.rest);
  const Bytes message(icmp, message_length);
  // ICMPv4 sums the message alone (RFC 792); ICMPv6 adds the pseudo header
  // (RFC 4443 section 2.3).
  const std::uint16_t checksum =
      version == IpVersion::V4
          ? internet_checksum(message)
          : transport_checksum(header.source, header.destination, protocol, message);
  store_be16(icmp + kIcmpChecksum, checksum);
  return total;
}

std::size_t build_tcp(MutableBytes out, const TcpSegmentHeader& header, Bytes payload) {
  const std::size_t header_size = tcp_header_size(header);
  if (!fits(out, header_size, header.source.version, payload.size())) return 0;
  if (!payload.empty()) std::memcpy(out.data() + header_size, payload.data(), payload.size());
  return write_tcp_headers(out, header, payload.size());
}

std::size_t build_udp(MutableBytes out, const UdpDatagramHeader& header, Bytes payload) {
  const std::size_t header_size = udp_header_size(header.source.version);
  if (!fits(out, header_size, header.source.version, payload.size())) return 0;
  if (!payload.empty()) std::memcpy(out.data() + header_size, payload.data(), payload.size());
  return write_udp_headers(out, header, payload.size());
}

std::size_t build_icmp(MutableBytes out, const IcmpMessageHeader& header, Bytes payload) {
  const std::size_t header_size = icmp_header_size(header.source.version);
  if (!fits(out, header_size, header.source.version, payload.size())) return 0;
  if (!payload.empty()) std::memcpy(out.data() + header_size, payload.data(), payload.size());
  return write_icmp_headers(out, header, payload.size());
}

}  // namespace rtether::wire
