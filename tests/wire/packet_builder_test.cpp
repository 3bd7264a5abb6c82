// Built packets parse back through parse_ip and the transport views, and
// their checksums verify against a pseudo header laid out independently.
#include "wire/packet_builder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "wire/checksum.hpp"
#include "wire/ip_packet.hpp"
#include "wire/raw_packets.hpp"
#include "wire/transport.hpp"

namespace rtether::wire {
namespace {

using test::address;
using test::ByteVector;

ByteVector payload_of(std::size_t size) {
  ByteVector out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return out;
}

TcpSegmentHeader syn_header(IpVersion version) {
  TcpSegmentHeader header;
  header.source = address(version == IpVersion::V4 ? "198.51.100.7" : "2001:db8::7");
  header.destination = address(version == IpVersion::V4 ? "192.0.2.1" : "2001:db8::1");
  header.source_port = 443;
  header.destination_port = 40000;
  header.seq = 0xDEADBEEF;
  header.ack = 0x10203040;
  header.flags = tcp_flag::kSyn | tcp_flag::kAck;
  header.window = 65535;
  header.mss = 1460;
  header.window_scale = 7;
  header.sack_permitted = true;
  header.ttl = 63;
  return header;
}

// The transport checksum verifies to 0 over pseudo header + segment.
void expect_transport_checksum_verifies(const IpPacket& packet) {
  const auto summed = test::with_pseudo_header(packet.source, packet.destination,
                                               packet.protocol, packet.payload);
  EXPECT_EQ(internet_checksum_reference(summed), 0);
}

IpPacket parse_built(Bytes packet) {
  const auto result = parse_ip(packet);
  EXPECT_TRUE(result.packet) << to_string(result.error);
  return result.packet.value_or(IpPacket{});
}

class PacketBuilderPerVersion : public ::testing::TestWithParam<IpVersion> {};

TEST_P(PacketBuilderPerVersion, BuildsATcpSynWhoseOptionsRoundTrip) {
  const auto header = syn_header(GetParam());
  ByteVector out(200);
  const std::size_t length = build_tcp(out, header, {});
  ASSERT_EQ(length, ip_header_size(GetParam()) + 32u);
  ASSERT_EQ(length, tcp_header_size(header));

  const IpPacket packet = parse_built(Bytes(out).first(length));
  EXPECT_EQ(packet.version, GetParam());
  EXPECT_EQ(packet.protocol, ip_protocol::kTcp);
  EXPECT_EQ(packet.ttl, 63);
  EXPECT_EQ(packet.source, header.source);
  EXPECT_EQ(packet.destination, header.destination);
  EXPECT_FALSE(packet.fragment);
  expect_transport_checksum_verifies(packet);

  const auto tcp = TcpView::parse(packet.payload);
  ASSERT_TRUE(tcp);
  EXPECT_EQ(tcp->source_port(), 443);
  EXPECT_EQ(tcp->destination_port(), 40000);
  EXPECT_EQ(tcp->seq(), 0xDEADBEEFu);
  EXPECT_EQ(tcp->ack(), 0x10203040u);
  EXPECT_EQ(tcp->flags(), tcp_flag::kSyn | tcp_flag::kAck);
  EXPECT_EQ(tcp->window(), 65535);
  EXPECT_EQ(tcp->header_length(), 32u);
  const auto options = tcp->options();
  EXPECT_EQ(options.mss, 1460);
  EXPECT_EQ(options.window_scale, 7);
  EXPECT_TRUE(options.sack_permitted);
  EXPECT_TRUE(tcp->payload().empty());
}

TEST_P(PacketBuilderPerVersion, BuildsATcpSegmentWithOddPayload) {
  auto header = syn_header(GetParam());
  header.flags = tcp_flag::kAck | tcp_flag::kPsh;
  header.mss.reset();
  header.window_scale.reset();
  header.sack_permitted = false;
  const auto payload = payload_of(1001);
  ByteVector out(2000);
  const std::size_t length = build_tcp(out, header, payload);
  ASSERT_EQ(length, ip_header_size(GetParam()) + 20u + 1001u);

  const IpPacket packet = parse_built(Bytes(out).first(length));
  expect_transport_checksum_verifies(packet);
  const auto tcp = TcpView::parse(packet.payload);
  ASSERT_TRUE(tcp);
  EXPECT_EQ(tcp->header_length(), 20u);
  EXPECT_EQ(ByteVector(tcp->payload().begin(), tcp->payload().end()), payload);
}

TEST_P(PacketBuilderPerVersion, BuildsAMaximalTcpSegment) {
  auto header = syn_header(GetParam());
  header.mss.reset();
  header.window_scale.reset();
  header.sack_permitted = false;
  const std::size_t payload_size = kMaxPacket - tcp_header_size(header);
  ByteVector out(kMaxPacket);
  const std::size_t length = build_tcp(out, header, payload_of(payload_size));
  ASSERT_EQ(length, kMaxPacket);
  expect_transport_checksum_verifies(parse_built(out));
}

TEST_P(PacketBuilderPerVersion, WritesHeadersInFrontOfAPayloadAlreadyInPlace) {
  auto header = syn_header(GetParam());
  header.flags = tcp_flag::kAck;
  const auto payload = payload_of(333);
  ByteVector copied(1000);
  const std::size_t copied_length = build_tcp(copied, header, payload);

  ByteVector in_place(1000);
  std::copy(payload.begin(), payload.end(), in_place.begin() + static_cast<std::ptrdiff_t>(tcp_header_size(header)));
  const std::size_t length = write_tcp_headers(in_place, header, payload.size());
  EXPECT_EQ(length, copied_length);
  EXPECT_TRUE(std::equal(copied.begin(), copied.begin() + static_cast<std::ptrdiff_t>(length), in_place.begin()));
}

TEST_P(PacketBuilderPerVersion, BuildsAUdpDatagram) {
  UdpDatagramHeader header;
  header.source = syn_header(GetParam()).source;
  header.destination = syn_header(GetParam()).destination;
  header.source_port = 53;
  header.destination_port = 33333;
  header.ttl = 1;
  const auto payload = payload_of(77);
  ByteVector out(500);
  const std::size_t length = build_udp(out, header, payload);
  ASSERT_EQ(length, udp_header_size(GetParam()) + 77u);

  const IpPacket packet = parse_built(Bytes(out).first(length));
  EXPECT_EQ(packet.protocol, ip_protocol::kUdp);
  EXPECT_EQ(packet.ttl, 1);
  expect_transport_checksum_verifies(packet);
  const auto udp = UdpView::parse(packet.payload);
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->source_port(), 53);
  EXPECT_EQ(udp->destination_port(), 33333);
  EXPECT_EQ(udp->length(), 85);
  EXPECT_NE(load(packet.payload.data(), udp_field::kChecksum), 0);
  EXPECT_EQ(ByteVector(udp->payload().begin(), udp->payload().end()), payload);
}

TEST_P(PacketBuilderPerVersion, SendsAComputedZeroUdpChecksumAsAllOnes) {
  UdpDatagramHeader header;
  header.source = syn_header(GetParam()).source;
  header.destination = syn_header(GetParam()).destination;
  header.source_port = 1000;
  header.destination_port = 2000;
  // With payload word w = ~sum(everything else), the sum is 0xFFFF and the
  // checksum computes to 0; w is the checksum of the datagram with w = 0.
  ByteVector out(100);
  ByteVector payload = {0, 0};
  const std::size_t probe = build_udp(out, header, payload);
  ASSERT_GT(probe, 0u);
  const IpPacket first = parse_built(Bytes(out).first(probe));
  store_be16(payload.data(), load(first.payload.data(), udp_field::kChecksum));

  const std::size_t length = build_udp(out, header, payload);
  const IpPacket packet = parse_built(Bytes(out).first(length));
  EXPECT_EQ(load(packet.payload.data(), udp_field::kChecksum), 0xFFFF);
  expect_transport_checksum_verifies(packet);
}

// What a link that completes checksums does with a PseudoHeaderOnly
// packet (the kernel's skb_checksum_help): sum from the transport header
// on, the field as it stands included, and store the complement.
ByteVector completed(Bytes packet, std::size_t field_offset) {
  ByteVector out(packet.begin(), packet.end());
  const IpPacket parsed = parse_built(Bytes(out));
  const std::size_t start = parsed.header.size();
  std::uint16_t sum = static_cast<std::uint16_t>(
      ~checksum_fold(checksum_add(Bytes(out).subspan(start))));
  if (sum == 0) sum = 0xFFFF;
  store_be16(out.data() + start + field_offset, sum);
  return out;
}

TEST_P(PacketBuilderPerVersion, LeavesATcpChecksumForTheLinkToCompleteWhenAsked) {
  TcpSegmentHeader header = syn_header(GetParam());
  const auto payload = payload_of(1001);
  ByteVector full(2000), partial(2000);
  const std::size_t length = build_tcp(full, header, payload);
  ASSERT_EQ(build_tcp(partial, header, payload, ChecksumMode::PseudoHeaderOnly), length);
  const IpPacket packet = parse_built(Bytes(partial).first(length));
  // The field holds the pseudo header's folded sum, nothing of the data.
  const auto summed = test::with_pseudo_header(packet.source, packet.destination,
                                               packet.protocol, packet.payload);
  const std::uint16_t pseudo = checksum_fold(
      checksum_add(Bytes(summed).first(summed.size() - packet.payload.size())));
  EXPECT_EQ(load(packet.payload.data(), tcp_field::kChecksum), pseudo);
  // Completed, it is the whole checksum; every other byte is the same.
  EXPECT_EQ(completed(Bytes(partial).first(length), tcp_field::kChecksum.offset),
            ByteVector(full.begin(), full.begin() + static_cast<long>(length)));
}

TEST_P(PacketBuilderPerVersion, LeavesAUdpChecksumForTheLinkToCompleteWhenAsked) {
  UdpDatagramHeader header;
  header.source = syn_header(GetParam()).source;
  header.destination = syn_header(GetParam()).destination;
  header.source_port = 53;
  header.destination_port = 33333;
  const auto payload = payload_of(333);
  ByteVector full(500), partial(500);
  const std::size_t length = build_udp(full, header, payload);
  ASSERT_EQ(build_udp(partial, header, payload, ChecksumMode::PseudoHeaderOnly), length);
  EXPECT_NE(ByteVector(full.begin(), full.begin() + static_cast<long>(length)),
            ByteVector(partial.begin(), partial.begin() + static_cast<long>(length)));
  EXPECT_EQ(completed(Bytes(partial).first(length), udp_field::kChecksum.offset),
            ByteVector(full.begin(), full.begin() + static_cast<long>(length)));
}

TEST_P(PacketBuilderPerVersion, FindsThePartialChecksumsItLeftAndNoWholeOne) {
  TcpSegmentHeader tcp = syn_header(GetParam());
  UdpDatagramHeader udp;
  udp.source = tcp.source;
  udp.destination = tcp.destination;
  udp.source_port = 53;
  udp.destination_port = 33333;
  const auto payload = payload_of(500);
  const std::size_t ip = ip_header_size(GetParam());
  ByteVector out(1000);
  std::size_t length = build_tcp(out, tcp, payload, ChecksumMode::PseudoHeaderOnly);
  auto partial = partial_checksum_of(Bytes(out).first(length));
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->start, ip);
  EXPECT_EQ(partial->field, tcp_field::kChecksum.offset);
  length = build_udp(out, udp, payload, ChecksumMode::PseudoHeaderOnly);
  partial = partial_checksum_of(Bytes(out).first(length));
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->start, ip);
  EXPECT_EQ(partial->field, udp_field::kChecksum.offset);

  length = build_tcp(out, tcp, payload);
  EXPECT_FALSE(partial_checksum_of(Bytes(out).first(length))) << "a whole TCP checksum";
  length = build_udp(out, udp, payload);
  EXPECT_FALSE(partial_checksum_of(Bytes(out).first(length))) << "a whole UDP checksum";
  IcmpMessageHeader icmp;
  icmp.source = tcp.source;
  icmp.destination = tcp.destination;
  icmp.type = GetParam() == IpVersion::V4 ? 0 : 129;
  length = build_icmp(out, icmp, payload);
  EXPECT_FALSE(partial_checksum_of(Bytes(out).first(length))) << "ICMP";
  EXPECT_FALSE(partial_checksum_of(Bytes(out).first(ip + 4))) << "cut short";
  EXPECT_FALSE(partial_checksum_of(Bytes{})) << "empty";
}

TEST_P(PacketBuilderPerVersion, BuildsAnIcmpEchoReply) {
  IcmpMessageHeader header;
  header.source = syn_header(GetParam()).source;
  header.destination = syn_header(GetParam()).destination;
  header.type = GetParam() == IpVersion::V4 ? icmp_type::kEchoReply : icmp_type::kV6EchoReply;
  header.rest = 0x12340009;
  const auto payload = payload_of(56);
  ByteVector out(200);
  const std::size_t length = build_icmp(out, header, payload);
  ASSERT_EQ(length, icmp_header_size(GetParam()) + 56u);

  const IpPacket packet = parse_built(Bytes(out).first(length));
  const auto icmp = IcmpView::parse(packet.payload);
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->type(), header.type);
  EXPECT_EQ(icmp->echo_identifier(), 0x1234);
  EXPECT_EQ(icmp->echo_sequence(), 9);
  EXPECT_EQ(icmp->payload().size(), 56u);
  if (GetParam() == IpVersion::V4) {
    EXPECT_EQ(packet.protocol, ip_protocol::kIcmp);
    EXPECT_EQ(internet_checksum_reference(packet.payload), 0);  // RFC 792: message only
  } else {
    EXPECT_EQ(packet.protocol, ip_protocol::kIcmpv6);
    expect_transport_checksum_verifies(packet);  // RFC 4443 section 2.3
  }
}

TEST_P(PacketBuilderPerVersion, RefusesAnOutputBufferTooSmall) {
  const auto header = syn_header(GetParam());
  ByteVector out(tcp_header_size(header) + 9);
  EXPECT_EQ(build_tcp(out, header, payload_of(10)), 0u);
  EXPECT_EQ(build_tcp(out, header, payload_of(9)), out.size());

  UdpDatagramHeader udp;
  udp.source = header.source;
  udp.destination = header.destination;
  ByteVector small(udp_header_size(GetParam()) - 1);
  EXPECT_EQ(build_udp(small, udp, {}), 0u);

  IcmpMessageHeader icmp;
  icmp.source = header.source;
  icmp.destination = header.destination;
  EXPECT_EQ(build_icmp(small, icmp, {}), 0u);
}

INSTANTIATE_TEST_SUITE_P(BothVersions, PacketBuilderPerVersion,
                         ::testing::Values(IpVersion::V4, IpVersion::V6),
                         [](const auto& info) { return info.param == IpVersion::V4 ? "V4" : "V6"; });

TEST(PacketBuilder, WritesAnIpv4HeaderWithDontFragmentAndAValidChecksum) {
  const auto header = syn_header(IpVersion::V4);
  ByteVector out(100);
  const std::size_t length = build_tcp(out, header, {});
  const IpPacket packet = parse_built(Bytes(out).first(length));
  EXPECT_EQ(packet.header.size(), 20u);
  EXPECT_EQ(out[0], 0x45);
  EXPECT_EQ(load_be16(&out[6]), 0x4000);
  EXPECT_EQ(internet_checksum_reference(packet.header), 0);
}

TEST(PacketBuilder, WritesAnIpv6HeaderWithZeroTrafficClassAndFlowLabel) {
  const auto header = syn_header(IpVersion::V6);
  ByteVector out(100);
  const std::size_t length = build_tcp(out, header, {});
  ASSERT_GT(length, 0u);
  EXPECT_EQ(load_be32(&out[0]), 0x60000000u);
  EXPECT_EQ(load_be16(&out[4]), length - 40);
  EXPECT_EQ(out[7], 63);
}

TEST(PacketBuilder, WritesEachSynOptionAsOneWordWithNopsInFront) {
  const auto header = syn_header(IpVersion::V4);
  ByteVector out(100);
  const std::size_t length = build_tcp(out, header, {});
  ASSERT_EQ(length, 20u + 32u);
  const ByteVector options(out.begin() + 40, out.begin() + 52);
  // MSS 1460; NOP, window scale 7; NOP, NOP, SACK permitted.
  EXPECT_EQ(options, (ByteVector{2, 4, 0x05, 0xB4, 1, 3, 3, 7, 1, 1, 4, 2}));
}

TEST(PacketBuilder, SizesTcpOptionsInWholeWords) {
  TcpSegmentHeader header = syn_header(IpVersion::V4);
  EXPECT_EQ(tcp_header_size(header), 20u + 20u + 12u);
  header.sack_permitted = false;
  EXPECT_EQ(tcp_header_size(header), 20u + 20u + 8u);
  header.window_scale.reset();
  EXPECT_EQ(tcp_header_size(header), 20u + 20u + 4u);
  header.mss.reset();
  EXPECT_EQ(tcp_header_size(header), 20u + 20u);
  EXPECT_EQ(udp_header_size(IpVersion::V6), 48u);
  EXPECT_EQ(icmp_header_size(IpVersion::V4), 28u);
}

TEST(PacketBuilder, RefusesAnIpv4PacketLongerThanTheTotalLengthField) {
  UdpDatagramHeader header;
  header.source = address("192.0.2.1");
  header.destination = address("192.0.2.2");
  ByteVector out(kMaxPacket + 100);
  EXPECT_EQ(build_udp(out, header, payload_of(kMaxPacket - 28 + 1)), 0u);
  EXPECT_EQ(build_udp(out, header, payload_of(kMaxPacket - 28)), kMaxPacket);
}

}  // namespace
}  // namespace rtether::wire
