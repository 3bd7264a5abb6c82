// The SOCKS5 UDP request header (RFC 1928 7).
#include "wire/socks5_udp.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace rtether::wire {
namespace {

using ByteVector = std::vector<std::uint8_t>;

TEST(Socks5Udp, Ipv4HeaderLayout) {
  ByteVector out(socks5_udp_header_size(IpVersion::V4));
  EXPECT_EQ(out.size(), 10u);
  EXPECT_EQ(write_socks5_udp_header(out, {IpAddress::v4(0xc0000201), 53}), 10u);
  EXPECT_EQ(out, (ByteVector{0, 0, 0, 1, 192, 0, 2, 1, 0, 53}));
}

TEST(Socks5Udp, Ipv6RoundTrip) {
  IpAddress address;
  ASSERT_TRUE(IpAddress::parse("2001:db8::7", address));
  ByteVector datagram(socks5_udp_header_size(IpVersion::V6));
  EXPECT_EQ(datagram.size(), 22u);
  ASSERT_EQ(write_socks5_udp_header(datagram, {address, 4242}), 22u);
  datagram.push_back('h');
  datagram.push_back('i');
  auto parsed = parse_socks5_udp(datagram);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->peer.address, address);
  EXPECT_EQ(parsed->peer.port, 4242);
  EXPECT_EQ(ByteVector(parsed->payload.begin(), parsed->payload.end()), (ByteVector{'h', 'i'}));
}

TEST(Socks5Udp, TooSmallRoomWritesNothing) {
  ByteVector out(9);
  EXPECT_EQ(write_socks5_udp_header(out, {IpAddress::v4(1), 1}), 0u);
}

TEST(Socks5Udp, FragmentsReservedBitsDomainsAndTruncationAreRefused) {
  EXPECT_FALSE(parse_socks5_udp(ByteVector{0, 0, 1, 1, 192, 0, 2, 1, 0, 53}));
  EXPECT_FALSE(parse_socks5_udp(ByteVector{0, 1, 0, 1, 192, 0, 2, 1, 0, 53}));
  EXPECT_FALSE(parse_socks5_udp(ByteVector{0, 0, 0, 3, 1, 'a', 0, 53}));
  EXPECT_FALSE(parse_socks5_udp(ByteVector{0, 0, 0, 1, 192, 0, 2, 1, 0}));
  EXPECT_FALSE(parse_socks5_udp(ByteVector{0, 0, 0}));
  auto empty = parse_socks5_udp(ByteVector{0, 0, 0, 1, 192, 0, 2, 1, 0, 53});
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->payload.empty());
}

}  // namespace
}  // namespace rtether::wire
