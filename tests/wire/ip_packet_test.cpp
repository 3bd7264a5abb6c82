// parse_ip and ip_packet_length against IPv4/IPv6 fixtures, valid and
// malformed.
#include "wire/ip_packet.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "wire/raw_packets.hpp"

namespace rtether::wire {
namespace {

using test::address;
using test::build;
using test::ByteVector;
using test::RawIpv4;
using test::RawIpv6;

ByteVector bytes_of_size(std::size_t size, std::uint8_t value = 0xAB) { return ByteVector(size, value); }

TEST(ParseIpv4, ReadsFieldsAndSplitsHeaderWithOptionsFromPayload) {
  RawIpv4 raw;
  raw.ihl = 6;
  raw.options = {0x01, 0x01, 0x01, 0x00};  // NOP NOP NOP EOL
  raw.ttl = 17;
  raw.protocol = ip_protocol::kTcp;
  raw.payload = bytes_of_size(30);
  const auto data = build(raw);

  const auto result = parse_ip(data);
  ASSERT_TRUE(result.packet) << to_string(result.error);
  const IpPacket& packet = *result.packet;
  EXPECT_EQ(result.error, IpError::None);
  EXPECT_EQ(packet.version, IpVersion::V4);
  EXPECT_EQ(packet.protocol, ip_protocol::kTcp);
  EXPECT_EQ(packet.ttl, 17);
  EXPECT_EQ(packet.source, address("192.0.2.1"));
  EXPECT_EQ(packet.destination, address("198.51.100.7"));
  EXPECT_FALSE(packet.fragment);
  EXPECT_EQ(packet.packet.size(), 54u);
  EXPECT_EQ(packet.header.size(), 24u);
  EXPECT_EQ(packet.payload.data(), data.data() + 24);
  EXPECT_EQ(packet.payload.size(), 30u);
}

TEST(ParseIpv4, IgnoresLinkPaddingAfterTotalLength) {
  RawIpv4 raw;
  raw.payload = bytes_of_size(8);
  auto data = build(raw);
  data.insert(data.end(), 18, 0x00);

  const auto result = parse_ip(data);
  ASSERT_TRUE(result.packet);
  EXPECT_EQ(result.packet->packet.size(), 28u);
  EXPECT_EQ(result.packet->payload.size(), 8u);
}

TEST(ParseIpv4, MarksMoreFragmentsAsAFirstFragment) {
  RawIpv4 raw;
  raw.flags_fragment = 0x2000;  // MF, offset 0
  raw.payload = bytes_of_size(16);
  auto data = build(raw);
  store_be16(&data[4], 0xBEEF);  // identification
  const auto result = parse_ip(data);
  ASSERT_TRUE(result.packet);
  ASSERT_TRUE(result.packet->fragment);
  EXPECT_EQ(result.packet->fragment->offset, 0u);
  EXPECT_TRUE(result.packet->fragment->is_first());
  EXPECT_TRUE(result.packet->fragment->more_fragments);
  EXPECT_EQ(result.packet->fragment->identification, 0xBEEFu);
}

TEST(ParseIpv4, MarksNonzeroOffsetAsALaterFragmentAndGivesItInBytes) {
  RawIpv4 raw;
  raw.flags_fragment = 0x0003;  // last fragment, offset 24 bytes
  raw.payload = bytes_of_size(16);
  const auto result = parse_ip(build(raw));
  ASSERT_TRUE(result.packet);
  ASSERT_TRUE(result.packet->fragment);
  EXPECT_EQ(result.packet->fragment->offset, 24u);
  EXPECT_FALSE(result.packet->fragment->is_first());
  EXPECT_FALSE(result.packet->fragment->more_fragments);
}

TEST(ParseIpv4, ReadsTheLargestFragmentOffsetWithMoreFragments) {
  RawIpv4 raw;
  raw.flags_fragment = 0x4000 | 0x2000 | 0x1FFF;  // DF (ignored), MF, offset 8191 units
  raw.payload = bytes_of_size(8);
  const auto result = parse_ip(build(raw));
  ASSERT_TRUE(result.packet);
  ASSERT_TRUE(result.packet->fragment);
  EXPECT_EQ(result.packet->fragment->offset, 8191u * 8u);
  EXPECT_TRUE(result.packet->fragment->more_fragments);
}

TEST(ParseIpv4, DoesNotTreatDontFragmentAsFragment) {
  RawIpv4 raw;
  raw.flags_fragment = 0x4000;
  const auto result = parse_ip(build(raw));
  ASSERT_TRUE(result.packet);
  EXPECT_FALSE(result.packet->fragment);
}

TEST(ParseIpv4, RejectsFewerBytesThanTheFixedHeader) {
  const auto data = build(RawIpv4{});
  EXPECT_EQ(parse_ip(Bytes(data).first(19)).error, IpError::Truncated);
  EXPECT_FALSE(parse_ip(Bytes(data).first(19)).packet);
}

TEST(ParseIpv4, RejectsTotalLengthBeyondTheBytesGiven) {
  RawIpv4 raw;
  raw.payload = bytes_of_size(10);
  raw.total_length = 31;
  EXPECT_EQ(parse_ip(build(raw)).error, IpError::Truncated);
}

TEST(ParseIpv4, RejectsHeaderLengthBelowFiveWords) {
  for (std::uint8_t ihl = 0; ihl < 5; ++ihl) {
    RawIpv4 raw;
    raw.ihl = ihl;
    EXPECT_EQ(parse_ip(build(raw)).error, IpError::BadHeaderLength) << int{ihl};
  }
}

TEST(ParseIpv4, RejectsTotalLengthShorterThanTheHeader) {
  RawIpv4 raw;
  raw.ihl = 6;
  raw.options = {0, 0, 0, 0};
  raw.total_length = 23;
  EXPECT_EQ(parse_ip(build(raw)).error, IpError::BadTotalLength);
}

TEST(ParseIpv4, RejectsHeaderLengthBeyondTheBytesGiven) {
  RawIpv4 raw;
  raw.ihl = 15;  // 60 bytes of header, only 20 present
  raw.total_length = 60;
  EXPECT_EQ(parse_ip(build(raw)).error, IpError::Truncated);
}

TEST(ParseIp, RejectsAnUnknownVersion) {
  auto data = build(RawIpv4{});
  for (std::uint8_t version : {0, 1, 5, 7, 15}) {
    data[0] = static_cast<std::uint8_t>((version << 4) | 5);
    EXPECT_EQ(parse_ip(data).error, IpError::BadVersion) << int{version};
  }
}

TEST(ParseIp, RejectsNoBytesAsTruncated) { EXPECT_EQ(parse_ip(Bytes{}).error, IpError::Truncated); }

TEST(ParseIpv6, ReadsFieldsOfAPlainPacket) {
  RawIpv6 raw;
  raw.next_header = ip_protocol::kUdp;
  raw.hop_limit = 3;
  raw.payload = bytes_of_size(12);
  const auto data = build(raw);

  const auto result = parse_ip(data);
  ASSERT_TRUE(result.packet) << to_string(result.error);
  const IpPacket& packet = *result.packet;
  EXPECT_EQ(packet.version, IpVersion::V6);
  EXPECT_EQ(packet.protocol, ip_protocol::kUdp);
  EXPECT_EQ(packet.ttl, 3);
  EXPECT_EQ(packet.source, address("2001:db8::1"));
  EXPECT_EQ(packet.destination, address("2001:db8::2"));
  EXPECT_FALSE(packet.fragment);
  EXPECT_EQ(packet.header.size(), 40u);
  EXPECT_EQ(packet.payload.size(), 12u);
  EXPECT_EQ(packet.packet.size(), 52u);
}

TEST(ParseIpv6, IgnoresLinkPaddingAfterPayloadLength) {
  RawIpv6 raw;
  raw.payload = bytes_of_size(8);
  auto data = build(raw);
  data.insert(data.end(), 7, 0xEE);
  const auto result = parse_ip(data);
  ASSERT_TRUE(result.packet);
  EXPECT_EQ(result.packet->packet.size(), 48u);
  EXPECT_EQ(result.packet->payload.size(), 8u);
}

TEST(ParseIpv6, WalksHopByHopAndFirstFragmentToTheTransportHeader) {
  RawIpv6 raw;
  raw.next_header = ip_protocol::kHopByHop;
  raw.extensions = test::concat({test::options_extension(ip_protocol::kFragment, 1),
                                 test::fragment_extension(ip_protocol::kUdp, 0, true)});
  raw.payload = bytes_of_size(20);
  const auto data = build(raw);

  const auto result = parse_ip(data);
  ASSERT_TRUE(result.packet) << to_string(result.error);
  EXPECT_EQ(result.packet->protocol, ip_protocol::kUdp);
  ASSERT_TRUE(result.packet->fragment);
  EXPECT_TRUE(result.packet->fragment->is_first());
  EXPECT_TRUE(result.packet->fragment->more_fragments);
  EXPECT_EQ(result.packet->fragment->identification, 0x12345678u);
  EXPECT_EQ(result.packet->header.size(), 40u + 16u + 8u);
  EXPECT_EQ(result.packet->payload.size(), 20u);
}

TEST(ParseIpv6, StopsAtALaterFragmentWithoutReadingItsDataAsHeaders) {
  RawIpv6 raw;
  raw.next_header = ip_protocol::kFragment;
  raw.extensions = test::fragment_extension(ip_protocol::kHopByHop, 185, false);
  raw.payload = bytes_of_size(3, 0xFF);  // would be a bad hop-by-hop header
  const auto result = parse_ip(build(raw));
  ASSERT_TRUE(result.packet) << to_string(result.error);
  ASSERT_TRUE(result.packet->fragment);
  EXPECT_EQ(result.packet->fragment->offset, 185u * 8u);
  EXPECT_FALSE(result.packet->fragment->is_first());
  EXPECT_FALSE(result.packet->fragment->more_fragments);
  EXPECT_EQ(result.packet->protocol, ip_protocol::kHopByHop);
  EXPECT_EQ(result.packet->payload.size(), 3u);
}

TEST(ParseIpv6, KeepsAnAtomicFragmentAsAFirstFragment) {
  // RFC 6946: offset 0 and M clear, a fragment header around a whole packet.
  RawIpv6 raw;
  raw.next_header = ip_protocol::kFragment;
  raw.extensions = test::fragment_extension(ip_protocol::kUdp, 0, false);
  raw.payload = bytes_of_size(8);
  const auto result = parse_ip(build(raw));
  ASSERT_TRUE(result.packet) << to_string(result.error);
  ASSERT_TRUE(result.packet->fragment);
  EXPECT_TRUE(result.packet->fragment->is_first());
  EXPECT_FALSE(result.packet->fragment->more_fragments);
  EXPECT_EQ(result.packet->protocol, ip_protocol::kUdp);
  EXPECT_EQ(result.packet->payload.size(), 8u);
}

TEST(ParseIpv6, WalksRoutingDestinationOptionsAndAuthenticationHeaders) {
  RawIpv6 raw;
  raw.next_header = ip_protocol::kRouting;
  raw.extensions = test::concat({test::options_extension(ip_protocol::kDestOptions, 0),
                                 test::options_extension(ip_protocol::kAuth, 2),
                                 test::auth_extension(ip_protocol::kTcp, 4)});
  raw.payload = bytes_of_size(20);
  const auto result = parse_ip(build(raw));
  ASSERT_TRUE(result.packet) << to_string(result.error);
  EXPECT_EQ(result.packet->protocol, ip_protocol::kTcp);
  EXPECT_FALSE(result.packet->fragment);
  EXPECT_EQ(result.packet->header.size(), 40u + 8u + 24u + 24u);
}

TEST(ParseIpv6, StopsAtNoNextHeaderAndEncryptedPayload) {
  for (std::uint8_t next : {ip_protocol::kNoNext, ip_protocol::kEsp, ip_protocol::kIcmpv6}) {
    RawIpv6 raw;
    raw.next_header = next;
    raw.payload = bytes_of_size(4);
    const auto result = parse_ip(build(raw));
    ASSERT_TRUE(result.packet);
    EXPECT_EQ(result.packet->protocol, next);
    EXPECT_EQ(result.packet->payload.size(), 4u);
  }
}

TEST(ParseIpv6, RejectsAnExtensionHeaderLongerThanThePacket) {
  RawIpv6 raw;
  raw.next_header = ip_protocol::kHopByHop;
  auto extension = test::options_extension(ip_protocol::kUdp, 0);
  extension[1] = 2;  // claims 24 bytes, 8 present
  raw.extensions = extension;
  EXPECT_EQ(parse_ip(build(raw)).error, IpError::BadExtensionHeader);
}

TEST(ParseIpv6, RejectsAChainThatNamesAHeaderAfterTheLastByte) {
  RawIpv6 raw;
  raw.next_header = ip_protocol::kHopByHop;
  raw.extensions = test::options_extension(ip_protocol::kDestOptions, 0);
  EXPECT_EQ(parse_ip(build(raw)).error, IpError::BadExtensionHeader);
}

TEST(ParseIpv6, RejectsAFragmentHeaderCutShort) {
  RawIpv6 raw;
  raw.next_header = ip_protocol::kFragment;
  raw.extensions = {ip_protocol::kUdp, 0, 0, 0};
  EXPECT_EQ(parse_ip(build(raw)).error, IpError::BadExtensionHeader);
}

TEST(ParseIpv6, RejectsAnExtensionChainCutByThePayloadLength) {
  // The bytes are all there, but the payload length ends the packet inside
  // the hop-by-hop header: padding must not be read as header.
  RawIpv6 raw;
  raw.next_header = ip_protocol::kHopByHop;
  raw.extensions = test::options_extension(ip_protocol::kUdp, 1);
  raw.payload_length = 8;
  EXPECT_EQ(parse_ip(build(raw)).error, IpError::BadExtensionHeader);
}

TEST(ParseIpv6, RejectsFewerBytesThanTheFixedHeader) {
  const auto data = build(RawIpv6{});
  EXPECT_EQ(parse_ip(Bytes(data).first(39)).error, IpError::Truncated);
}

TEST(ParseIpv6, RejectsPayloadLengthBeyondTheBytesGiven) {
  RawIpv6 raw;
  raw.payload = bytes_of_size(10);
  raw.payload_length = 11;
  EXPECT_EQ(parse_ip(build(raw)).error, IpError::Truncated);
}

TEST(IpPacketLength, ReadsIpv4TotalLengthFromFourBytes) {
  RawIpv4 raw;
  raw.payload = bytes_of_size(100);
  const auto data = build(raw);
  for (std::size_t have = 0; have < 4; ++have) {
    const auto result = ip_packet_length(Bytes(data).first(have));
    EXPECT_EQ(result.length, 0u);
    EXPECT_EQ(result.error, IpError::None);
  }
  EXPECT_EQ(ip_packet_length(Bytes(data).first(4)).length, 120u);
}

TEST(IpPacketLength, ReadsIpv6PayloadLengthFromSixBytes) {
  RawIpv6 raw;
  raw.payload = bytes_of_size(100);
  const auto data = build(raw);
  for (std::size_t have = 1; have < 6; ++have) {
    EXPECT_EQ(ip_packet_length(Bytes(data).first(have)).length, 0u);
    EXPECT_EQ(ip_packet_length(Bytes(data).first(have)).error, IpError::None);
  }
  EXPECT_EQ(ip_packet_length(Bytes(data).first(6)).length, 140u);
}

TEST(IpPacketLength, RejectsIpv4TotalLengthBelowTheMinimumHeader) {
  RawIpv4 raw;
  raw.total_length = 19;
  EXPECT_EQ(ip_packet_length(build(raw)).error, IpError::BadTotalLength);
}

TEST(IpPacketLength, RejectsAnUnknownVersionFromTheFirstByte) {
  const std::uint8_t first = 0x55;
  EXPECT_EQ(ip_packet_length(Bytes(&first, 1)).error, IpError::BadVersion);
}

TEST(IpError, HasADistinctDescriptionForEachValue) {
  std::set<std::string> seen;
  for (auto error : {IpError::None, IpError::Truncated, IpError::BadVersion,
                     IpError::BadHeaderLength, IpError::BadTotalLength,
                     IpError::BadExtensionHeader}) {
    seen.insert(to_string(error));
  }
  EXPECT_EQ(seen.size(), 6u);
}

}  // namespace
}  // namespace rtether::wire
