// ICMP error builder: type/code per version, the quote cut to the RFC size
// limits, checksums verified with the reference implementation, and which
// packets may be answered with an error.
#include "wire/icmp_error.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "wire/checksum.hpp"
#include "wire/packet_builder.hpp"
#include "wire/raw_packets.hpp"
#include "wire/transport.hpp"

namespace rtether::wire {
namespace {

using test::address;
using test::ByteVector;

// A UDP datagram from the device (10.0.0.2 / fd00::2) with `size` payload bytes.
ByteVector device_udp(IpVersion version, std::size_t size) {
  UdpDatagramHeader header;
  header.source = address(version == IpVersion::V4 ? "10.0.0.2" : "fd00::2");
  header.destination = address(version == IpVersion::V4 ? "192.0.2.1" : "2001:db8::1");
  header.source_port = 40000;
  header.destination_port = 53;
  ByteVector payload(size);
  for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<std::uint8_t>(i);
  ByteVector out(70000);
  out.resize(build_udp(out, header, payload));
  return out;
}

IcmpErrorHeader error_to(const IpPacket& offending, IcmpErrorKind kind, std::uint32_t mtu = 0) {
  IcmpErrorHeader header;
  header.source = offending.destination;
  header.destination = offending.source;
  header.kind = kind;
  header.mtu = mtu;
  return header;
}

// The built packet and views into it (moving the vector keeps its buffer).
struct Built {
  ByteVector bytes;
  IpPacket packet;
  IcmpView icmp;
};

Built build_error(const ByteVector& offending_bytes, IcmpErrorKind kind, std::uint32_t mtu = 0) {
  auto offending = parse_ip(offending_bytes);
  EXPECT_TRUE(offending.packet);
  ByteVector out(2000);
  std::size_t length = build_icmp_error(out, error_to(*offending.packet, kind, mtu), offending_bytes);
  EXPECT_GT(length, 0u);
  out.resize(length);
  auto parsed = parse_ip(out);
  EXPECT_TRUE(parsed.packet);
  auto icmp = IcmpView::parse(parsed.packet->payload);
  EXPECT_TRUE(icmp);
  return Built{std::move(out), *parsed.packet, *icmp};
}

TEST(IcmpErrorV4, PortUnreachableQuotesTheWholeSmallDatagram) {
  auto offending = device_udp(IpVersion::V4, 12);
  auto built = build_error(offending, IcmpErrorKind::PortUnreachable);
  EXPECT_EQ(built.packet.protocol, ip_protocol::kIcmp);
  EXPECT_EQ(built.packet.source, address("192.0.2.1"));
  EXPECT_EQ(built.packet.destination, address("10.0.0.2"));
  EXPECT_EQ(built.icmp.type(), 3);
  EXPECT_EQ(built.icmp.code(), 3);
  EXPECT_EQ(ByteVector(built.icmp.payload().begin(), built.icmp.payload().end()), offending);
  // RFC 792: the checksum covers the ICMP message alone and verifies to 0.
  EXPECT_EQ(internet_checksum_reference(built.icmp.bytes()), 0);
  EXPECT_EQ(internet_checksum_reference(built.packet.header), 0);
}

TEST(IcmpErrorV4, LargeDatagramIsQuotedUpTo576Bytes) {
  auto offending = device_udp(IpVersion::V4, 3000);
  auto built = build_error(offending, IcmpErrorKind::HostUnreachable);
  EXPECT_EQ(built.bytes.size(), kIcmpV4ErrorMax);
  EXPECT_EQ(built.icmp.code(), 1);
  EXPECT_TRUE(std::equal(built.icmp.payload().begin(), built.icmp.payload().end(), offending.begin()));
  EXPECT_EQ(internet_checksum_reference(built.icmp.bytes()), 0);
}

TEST(IcmpErrorV4, FragmentationNeededCarriesTheMtuInTheLow16Bits) {
  auto built = build_error(device_udp(IpVersion::V4, 2000), IcmpErrorKind::PacketTooBig, 1280);
  EXPECT_EQ(built.icmp.type(), 3);
  EXPECT_EQ(built.icmp.code(), 4);
  EXPECT_EQ(built.icmp.echo_identifier(), 0);  // unused half
  EXPECT_EQ(built.icmp.echo_sequence(), 1280);
}

TEST(IcmpErrorV4, TooSmallAnMtuIsRaisedToTheMinimum) {
  auto built = build_error(device_udp(IpVersion::V4, 200), IcmpErrorKind::PacketTooBig, 10);
  EXPECT_EQ(built.icmp.echo_sequence(), kMinMtuV4);
}

TEST(IcmpErrorV4, NetAndAdminCodes) {
  EXPECT_EQ(build_error(device_udp(IpVersion::V4, 1), IcmpErrorKind::NetUnreachable).icmp.code(), 0);
  EXPECT_EQ(build_error(device_udp(IpVersion::V4, 1), IcmpErrorKind::AdminProhibited).icmp.code(), 13);
}

TEST(IcmpErrorV6, PortUnreachableVerifiesWithThePseudoHeader) {
  auto offending = device_udp(IpVersion::V6, 12);
  auto built = build_error(offending, IcmpErrorKind::PortUnreachable);
  EXPECT_EQ(built.packet.protocol, ip_protocol::kIcmpv6);
  EXPECT_EQ(built.packet.destination, address("fd00::2"));
  EXPECT_EQ(built.icmp.type(), 1);
  EXPECT_EQ(built.icmp.code(), 4);
  const auto summed = test::with_pseudo_header(built.packet.source, built.packet.destination,
                                               ip_protocol::kIcmpv6, built.packet.payload);
  EXPECT_EQ(internet_checksum_reference(summed), 0);
  EXPECT_EQ(ByteVector(built.icmp.payload().begin(), built.icmp.payload().end()), offending);
}

TEST(IcmpErrorV6, PacketTooBigCarriesA32BitMtuAndFitsIn1280Bytes) {
  auto built = build_error(device_udp(IpVersion::V6, 5000), IcmpErrorKind::PacketTooBig, 1400);
  EXPECT_EQ(built.icmp.type(), 2);
  EXPECT_EQ(built.icmp.code(), 0);
  EXPECT_EQ(load_be32(built.icmp.bytes().data() + 4), 1400u);
  EXPECT_EQ(built.bytes.size(), kIcmpV6ErrorMax);
}

TEST(IcmpErrorV6, AnMtuBelow1280IsRaised) {
  auto built = build_error(device_udp(IpVersion::V6, 5000), IcmpErrorKind::PacketTooBig, 576);
  EXPECT_EQ(load_be32(built.icmp.bytes().data() + 4), kMinMtuV6);
}

TEST(IcmpErrorV6, UnreachableCodes) {
  EXPECT_EQ(build_error(device_udp(IpVersion::V6, 1), IcmpErrorKind::NetUnreachable).icmp.code(), 0);
  EXPECT_EQ(build_error(device_udp(IpVersion::V6, 1), IcmpErrorKind::AdminProhibited).icmp.code(), 1);
  EXPECT_EQ(build_error(device_udp(IpVersion::V6, 1), IcmpErrorKind::HostUnreachable).icmp.code(), 3);
}

TEST(IcmpError, RefusesATooSmallBufferOrMixedVersions) {
  auto offending = device_udp(IpVersion::V4, 100);
  auto parsed = parse_ip(offending);
  ByteVector small(40);
  EXPECT_EQ(build_icmp_error(small, error_to(*parsed.packet, IcmpErrorKind::HostUnreachable), offending), 0u);
  ByteVector out(2000);
  auto header = error_to(*parsed.packet, IcmpErrorKind::HostUnreachable);
  header.destination = address("fd00::2");
  EXPECT_EQ(build_icmp_error(out, header, offending), 0u);
}

TEST(IcmpError, SizeMatchesWhatIsBuilt) {
  EXPECT_EQ(icmp_error_size(IpVersion::V4, 36), 28u + 36u);
  EXPECT_EQ(icmp_error_size(IpVersion::V4, 5000), kIcmpV4ErrorMax);
  EXPECT_EQ(icmp_error_size(IpVersion::V6, 5000), kIcmpV6ErrorMax);
}

IpPacket parsed(const ByteVector& bytes) { return *parse_ip(bytes).packet; }

constexpr IcmpErrorKind kHost = IcmpErrorKind::HostUnreachable;

ByteVector icmp_packet(IpVersion version, std::uint8_t type) {
  IcmpMessageHeader header;
  header.source = address(version == IpVersion::V4 ? "10.0.0.2" : "fd00::2");
  header.destination = address(version == IpVersion::V4 ? "192.0.2.1" : "2001:db8::1");
  header.type = type;
  ByteVector out(200);
  out.resize(build_icmp(out, header, ByteVector(8, 1)));
  return out;
}

TEST(MayAnswerWithError, TransportAndEchoYesErrorsNo) {
  EXPECT_TRUE(may_answer_with_error(parsed(device_udp(IpVersion::V4, 10)), kHost));
  EXPECT_TRUE(may_answer_with_error(parsed(device_udp(IpVersion::V6, 10)), kHost));
  EXPECT_TRUE(may_answer_with_error(parsed(icmp_packet(IpVersion::V4, icmp_type::kEchoRequest)), kHost));
  EXPECT_TRUE(may_answer_with_error(parsed(icmp_packet(IpVersion::V6, icmp_type::kV6EchoRequest)), kHost));
  EXPECT_FALSE(may_answer_with_error(parsed(icmp_packet(IpVersion::V4, icmp_type::kDestUnreachable)), kHost));
  EXPECT_FALSE(may_answer_with_error(parsed(icmp_packet(IpVersion::V4, icmp_type::kTimeExceeded)), kHost));
  EXPECT_FALSE(may_answer_with_error(parsed(icmp_packet(IpVersion::V6, icmp_type::kV6PacketTooBig)), kHost));
  EXPECT_FALSE(may_answer_with_error(parsed(icmp_packet(IpVersion::V4, 42)), kHost));  // unknown type
}

TEST(MayAnswerWithError, NotToMulticastBroadcastOrUnspecifiedSources) {
  test::RawIpv4 raw;
  raw.payload = ByteVector(8, 0);
  raw.source = address("224.0.0.1");
  EXPECT_FALSE(may_answer_with_error(parsed(test::build(raw)), kHost));
  raw.source = address("255.255.255.255");
  EXPECT_FALSE(may_answer_with_error(parsed(test::build(raw)), kHost));
  raw.source = address("0.0.0.0");
  EXPECT_FALSE(may_answer_with_error(parsed(test::build(raw)), kHost));
  raw.source = address("10.0.0.2");
  EXPECT_TRUE(may_answer_with_error(parsed(test::build(raw)), kHost));
}

// RFC 1122 3.2.2 / RFC 4443 2.4 (e.3): no error about a packet sent to a
// broadcast or multicast address, except an IPv6 Packet Too Big.
TEST(MayAnswerWithError, NotAboutPacketsToMulticastOrBroadcast) {
  test::RawIpv4 raw;
  raw.payload = ByteVector(8, 0);
  for (const char* destination : {"255.255.255.255", "224.0.0.1", "239.255.255.250"}) {
    raw.destination = address(destination);
    for (auto kind : {IcmpErrorKind::AdminProhibited, IcmpErrorKind::PortUnreachable,
                      IcmpErrorKind::PacketTooBig}) {
      EXPECT_FALSE(may_answer_with_error(parsed(test::build(raw)), kind)) << destination;
    }
  }
  raw.destination = address("192.0.2.255");  // may be a subnet broadcast; not knowable here
  EXPECT_TRUE(may_answer_with_error(parsed(test::build(raw)), kHost));

  UdpDatagramHeader header;
  header.source = address("fd00::2");
  header.destination = address("ff02::fb");
  header.source_port = 5353;
  header.destination_port = 5353;
  ByteVector out(200);
  out.resize(build_udp(out, header, ByteVector(4, 1)));
  EXPECT_FALSE(may_answer_with_error(parsed(out), IcmpErrorKind::PortUnreachable));
  EXPECT_FALSE(may_answer_with_error(parsed(out), IcmpErrorKind::AdminProhibited));
  EXPECT_TRUE(may_answer_with_error(parsed(out), IcmpErrorKind::PacketTooBig));

  EXPECT_TRUE(is_broadcast_or_multicast(address("255.255.255.255")));
  EXPECT_TRUE(is_broadcast_or_multicast(address("224.0.0.251")));
  EXPECT_TRUE(is_broadcast_or_multicast(address("ff05::1")));
  EXPECT_FALSE(is_broadcast_or_multicast(address("223.255.255.255")));
  EXPECT_FALSE(is_broadcast_or_multicast(address("240.0.0.1")));
  EXPECT_FALSE(is_broadcast_or_multicast(address("fe80::1")));
}

TEST(MayAnswerWithError, OnlyTheFirstIpv4Fragment) {
  test::RawIpv4 raw;
  raw.payload = ByteVector(8, 0);
  raw.flags_fragment = 0x2000;  // MF, offset 0: first fragment
  EXPECT_TRUE(may_answer_with_error(parsed(test::build(raw)), kHost));
  raw.flags_fragment = 0x0010;  // offset 16 units
  EXPECT_FALSE(may_answer_with_error(parsed(test::build(raw)), kHost));
  raw.flags_fragment = 0x0001;  // offset 1 unit, last fragment
  EXPECT_FALSE(may_answer_with_error(parsed(test::build(raw)), kHost));
}

TEST(MayAnswerWithError, OnlyTheFirstIpv6Fragment) {
  test::RawIpv6 raw;
  raw.source = address("fd00::2");
  raw.next_header = ip_protocol::kFragment;
  raw.payload = ByteVector(8, 0);
  raw.extensions = test::fragment_extension(ip_protocol::kUdp, 0, true);
  EXPECT_TRUE(may_answer_with_error(parsed(test::build(raw)), kHost));
  raw.extensions = test::fragment_extension(ip_protocol::kUdp, 1, true);
  EXPECT_FALSE(may_answer_with_error(parsed(test::build(raw)), kHost));
  // A later fragment's data is not an ICMPv6 header, whatever its next header says.
  raw.extensions = test::fragment_extension(ip_protocol::kIcmpv6, 2, false);
  raw.payload = ByteVector(8, icmp_type::kV6EchoRequest);
  EXPECT_FALSE(may_answer_with_error(parsed(test::build(raw)), kHost));
}

TEST(ClassifyIcmpError, MapsEveryKindBackPerVersion) {
  for (auto version : {IpVersion::V4, IpVersion::V6}) {
    for (auto kind : {IcmpErrorKind::NetUnreachable, IcmpErrorKind::HostUnreachable,
                      IcmpErrorKind::PortUnreachable, IcmpErrorKind::AdminProhibited,
                      IcmpErrorKind::PacketTooBig}) {
      auto built = build_error(device_udp(version, 10), kind, 1500);
      auto summary = classify_icmp_error(version, built.icmp.type(), built.icmp.code(),
                                         load_be32(built.icmp.bytes().data() + 4));
      ASSERT_TRUE(summary) << to_string(kind);
      EXPECT_EQ(summary->kind, kind);
      if (kind == IcmpErrorKind::PacketTooBig) {
        EXPECT_EQ(summary->mtu, 1500u);
      }
    }
  }
  EXPECT_FALSE(classify_icmp_error(IpVersion::V4, icmp_type::kTimeExceeded, 0, 0));
  EXPECT_FALSE(classify_icmp_error(IpVersion::V6, icmp_type::kV6EchoReply, 0, 0));
}

}  // namespace
}  // namespace rtether::wire
