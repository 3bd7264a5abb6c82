// Builds IPv4/IPv6 packets carrying TCP, UDP or ICMP toward the device.
//
// Headers are written in place in front of a payload that is already in the
// output buffer, so the only pass over the payload is the checksum (none at
// all with ChecksumMode::PseudoHeaderOnly). The
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

// IPv4 header (RFC 791 section 3.1): version 4, IHL 5 words (no options).
constexpr std::uint8_t kV4VersionIhl =
    (static_cast<std::uint8_t>(IpVersion::V4) << ip_field::kVersionShift) |
    (kIpv4MinHeader / ipv4_field::kIhlUnit);

// IPv6 header (RFC 8200 section 3): version 6, traffic class 0, flow label 0.
constexpr std::uint32_t kV6VersionClassFlow =
    std::uint32_t{static_cast<std::uint8_t>(IpVersion::V6)} << ipv6_field::kVersionShift;

// TCP options (RFC 9293 section 3.2, RFC 7323 section 2.2, RFC 2018 section
// 2). Every option is written as one 4-byte word, NOPs in front, so the
// header stays 32-bit aligned without trailing padding.
constexpr std::size_t kTcpOptionWord = 4;

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
    using namespace ipv4_field;
    assert(kIpv4MinHeader + length <= kMaxPacket);
    store(out, kVersionIhl, kV4VersionIhl);
    store(out, kTypeOfService, 0);
    store(out, kTotalLength, static_cast<std::uint16_t>(kIpv4MinHeader + length));
    store(out, kIdentification, 0);  // unused with DF set (RFC 6864 section 4.1)
    store(out, kFlagsFragmentOffset, kDontFragment);
    store(out, kTtl, ttl);
    store(out, kProtocol, protocol);
    store(out, kChecksum, 0);
    std::memcpy(out + kSource.offset, source.bytes.data(), kSource.size);
    std::memcpy(out + kDestination.offset, destination.bytes.data(), kDestination.size);
    store(out, kChecksum, internet_checksum(Bytes(out, kIpv4MinHeader)));
    return kIpv4MinHeader;
  }
  using namespace ipv6_field;
  assert(length <= kMaxPacket);
  store(out, kVersionClassFlow, kV6VersionClassFlow);
  store(out, kPayloadLength, static_cast<std::uint16_t>(length));
  store(out, kNextHeader, protocol);
  store(out, kHopLimit, ttl);
  std::memcpy(out + kSource.offset, source.bytes.data(), kSource.size);
  std::memcpy(out + kDestination.offset, destination.bytes.data(), kDestination.size);
  return kIpv6Header;
}

// One option word at `word`: NOPs, then the option's kind and length at the
// end of the word; returns where the option's value goes.
std::uint8_t* write_option_word(std::uint8_t* word, std::uint8_t kind, std::uint8_t length) {
  assert(length <= kTcpOptionWord);
  const std::size_t nops = kTcpOptionWord - length;
  std::memset(word, tcp_option::kNop, nops);
  std::uint8_t* option = word + nops;
  store(option, tcp_option::kKind, kind);
  store(option, tcp_option::kLength, length);
  return option;
}

std::uint16_t transport_checksum(const IpAddress& source, const IpAddress& destination,
                                 std::uint8_t protocol, Bytes segment) {
  const std::uint64_t sum =
      checksum_add(segment, pseudo_header_sum(source, destination, protocol, segment.size()));
  return static_cast<std::uint16_t>(~checksum_fold(sum));
}

// The field's value for `mode`: the whole checksum, or the pseudo header's
// folded sum that the link completes (the field itself is then summed in
// as it stands, which is what makes the completed sum right).
std::uint16_t transport_checksum_field(const IpAddress& source, const IpAddress& destination,
                                       std::uint8_t protocol, Bytes segment, ChecksumMode mode) {
  if (mode == ChecksumMode::PseudoHeaderOnly) {
    return checksum_fold(pseudo_header_sum(source, destination, protocol, segment.size()));
  }
  return transport_checksum(source, destination, protocol, segment);
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
                              std::size_t payload_length, ChecksumMode checksum) {
  const std::size_t total = tcp_header_size(header) + payload_length;
  assert(out.size() >= total);
  const std::size_t tcp_length = kTcpMinHeader + tcp_options_size(header);
  const std::size_t segment_length = tcp_length + payload_length;
  const std::size_t ip_length = write_ip_header(out.data(), header.source, header.destination,
                                                ip_protocol::kTcp, header.ttl, segment_length);

  std::uint8_t* tcp = out.data() + ip_length;
  store(tcp, tcp_field::kSourcePort, header.source_port);
  store(tcp, tcp_field::kDestinationPort, header.destination_port);
  store(tcp, tcp_field::kSeq, header.seq);
  store(tcp, tcp_field::kAck, header.ack);
  store(tcp, tcp_field::kDataOffset,
        static_cast<std::uint8_t>((tcp_length / tcp_field::kDataOffsetUnit)
                                  << tcp_field::kDataOffsetShift));
  store(tcp, tcp_field::kFlags, header.flags);
  store(tcp, tcp_field::kWindow, header.window);
  store(tcp, tcp_field::kChecksum, 0);
  store(tcp, tcp_field::kUrgentPointer, 0);

  std::uint8_t* word = tcp + kTcpMinHeader;
  if (header.mss) {
    std::uint8_t* option = write_option_word(word, tcp_option::kMss, tcp_option::kMssLength);
    store(option, tcp_option::kMssValue, *header.mss);
    word += kTcpOptionWord;
  }
  if (header.window_scale) {
    std::uint8_t* option =
        write_option_word(word, tcp_option::kWindowScale, tcp_option::kWindowScaleLength);
    store(option, tcp_option::kWindowScaleValue, *header.window_scale);
    word += kTcpOptionWord;
  }
  if (header.sack_permitted) {
    write_option_word(word, tcp_option::kSackPermitted, tcp_option::kSackPermittedLength);
  }

  store(tcp, tcp_field::kChecksum,
        transport_checksum_field(header.source, header.destination, ip_protocol::kTcp,
                                 Bytes(tcp, segment_length), checksum));
  return total;
}

std::size_t write_udp_headers(MutableBytes out, const UdpDatagramHeader& header,
                              std::size_t payload_length, ChecksumMode checksum_mode) {
  const std::size_t total = udp_header_size(header.source.version) + payload_length;
  assert(out.size() >= total);
  const std::size_t datagram_length = kUdpHeader + payload_length;
  const std::size_t ip_length = write_ip_header(out.data(), header.source, header.destination,
                                                ip_protocol::kUdp, header.ttl, datagram_length);

  std::uint8_t* udp = out.data() + ip_length;
  store(udp, udp_field::kSourcePort, header.source_port);
  store(udp, udp_field::kDestinationPort, header.destination_port);
  store(udp, udp_field::kLength, static_cast<std::uint16_t>(datagram_length));
  store(udp, udp_field::kChecksum, 0);
  std::uint16_t checksum =
      transport_checksum_field(header.source, header.destination, ip_protocol::kUdp,
                               Bytes(udp, datagram_length), checksum_mode);
  // A partial sum is never sent as it is: the link completes it (and
  // writes a completed zero as all ones too).
  if (checksum == 0 && checksum_mode == ChecksumMode::Full) checksum = kUdpZeroChecksum;
  store(udp, udp_field::kChecksum, checksum);
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
  store(icmp, icmp_field::kType, header.type);
  store(icmp, icmp_field::kCode, header.code);
  store(icmp, icmp_field::kChecksum, 0);
  store(icmp, icmp_field::kRestOfHeader, header.rest);
  const Bytes message(icmp, message_length);
  // ICMPv4 sums the message alone (RFC 792); ICMPv6 adds the pseudo header
  // (RFC 4443 section 2.3).
  const std::uint16_t checksum =
      version == IpVersion::V4
          ? internet_checksum(message)
          : transport_checksum(header.source, header.destination, protocol, message);
  store(icmp, icmp_field::kChecksum, checksum);
  return total;
}

std::optional<PartialChecksum> partial_checksum_of(Bytes packet) {
  if (packet.empty()) return std::nullopt;
  const unsigned version = load(packet.data(), ip_field::kVersion) >> ip_field::kVersionShift;
  std::size_t start = 0;
  std::uint8_t protocol = 0;
  IpAddress source, destination;
  if (version == 4 && packet.size() >= kIpv4MinHeader) {
    using namespace ipv4_field;
    start = (load(packet.data(), kVersionIhl) & kIhlMask) * kIhlUnit;
    protocol = load(packet.data(), kProtocol);
    source = IpAddress::v4_from(packet.data() + kSource.offset);
    destination = IpAddress::v4_from(packet.data() + kDestination.offset);
  } else if (version == 6 && packet.size() >= kIpv6Header) {
    using namespace ipv6_field;
    start = kIpv6Header;
    protocol = load(packet.data(), kNextHeader);
    source = IpAddress::v6_from(packet.data() + kSource.offset);
    destination = IpAddress::v6_from(packet.data() + kDestination.offset);
  } else {
    return std::nullopt;
  }
  std::size_t field = 0;
  if (protocol == ip_protocol::kTcp) field = tcp_field::kChecksum.offset;
  if (protocol == ip_protocol::kUdp) field = udp_field::kChecksum.offset;
  if (field == 0 || start + field + sizeof(std::uint16_t) > packet.size()) return std::nullopt;
  const std::uint16_t partial =
      checksum_fold(pseudo_header_sum(source, destination, protocol, packet.size() - start));
  if (load_be16(packet.data() + start + field) != partial) return std::nullopt;
  return PartialChecksum{static_cast<std::uint16_t>(start), static_cast<std::uint16_t>(field)};
}

std::size_t build_tcp(MutableBytes out, const TcpSegmentHeader& header, Bytes payload,
                      ChecksumMode checksum) {
  const std::size_t header_size = tcp_header_size(header);
  if (!fits(out, header_size, header.source.version, payload.size())) return 0;
  if (!payload.empty()) std::memcpy(out.data() + header_size, payload.data(), payload.size());
  return write_tcp_headers(out, header, payload.size(), checksum);
}

std::size_t build_udp(MutableBytes out, const UdpDatagramHeader& header, Bytes payload,
                      ChecksumMode checksum) {
  const std::size_t header_size = udp_header_size(header.source.version);
  if (!fits(out, header_size, header.source.version, payload.size())) return 0;
  if (!payload.empty()) std::memcpy(out.data() + header_size, payload.data(), payload.size());
  return write_udp_headers(out, header, payload.size(), checksum);
}

std::size_t build_icmp(MutableBytes out, const IcmpMessageHeader& header, Bytes payload) {
  const std::size_t header_size = icmp_header_size(header.source.version);
  if (!fits(out, header_size, header.source.version, payload.size())) return 0;
  if (!payload.empty()) std::memcpy(out.data() + header_size, payload.data(), payload.size());
  return write_icmp_headers(out, header, payload.size());
}

}  // namespace rtether::wire
