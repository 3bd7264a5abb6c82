// Tests for the client's address options: CIDR prefixes, DNS lists, and the
// one-line reasons given for bad values.
#include "wire/ip_prefix.hpp"

#include <gtest/gtest.h>

namespace rtether::wire {
namespace {

TEST(ParsePrefix, ReadsIpv4Cidr) {
  std::string error;
  auto prefix = parse_prefix("192.0.2.0/24", error);
  ASSERT_TRUE(prefix) << error;
  EXPECT_EQ(prefix->address.version, IpVersion::V4);
  EXPECT_EQ(prefix->length, 24);
  EXPECT_EQ(prefix->to_string(), "192.0.2.0/24");
}

TEST(ParsePrefix, BareIpv4AddressIsAHostRoute) {
  std::string error;
  auto prefix = parse_prefix("203.0.113.7", error);
  ASSERT_TRUE(prefix) << error;
  EXPECT_EQ(prefix->length, 32);
}

TEST(ParsePrefix, ReadsIpv6CidrAndBareAddress) {
  std::string error;
  auto prefix = parse_prefix("2001:db8::/32", error);
  ASSERT_TRUE(prefix) << error;
  EXPECT_EQ(prefix->address.version, IpVersion::V6);
  EXPECT_EQ(prefix->length, 32);
  EXPECT_EQ(parse_prefix("::1", error)->length, 128);
}

TEST(ParsePrefix, DefaultRouteHasLengthZero) {
  std::string error;
  EXPECT_EQ(parse_prefix("0.0.0.0/0", error)->length, 0);
  EXPECT_EQ(parse_prefix("::/0", error)->length, 0);
}

TEST(ParsePrefix, RejectsLengthPastTheAddressSize) {
  std::string error;
  EXPECT_FALSE(parse_prefix("192.0.2.0/33", error));
  EXPECT_NE(error.find("0-32"), std::string::npos) << error;
  EXPECT_FALSE(parse_prefix("2001:db8::/129", error));
  EXPECT_NE(error.find("0-128"), std::string::npos) << error;
}

TEST(ParsePrefix, RejectsMalformedLengths) {
  std::string error;
  for (const char* text : {"192.0.2.0/", "192.0.2.0/-1", "192.0.2.0/2x", "192.0.2.0/ 8"}) {
    EXPECT_FALSE(parse_prefix(text, error)) << text;
  }
}

TEST(ParsePrefix, RejectsNonAddresses) {
  std::string error;
  for (const char* text : {"", "example.com/8", "192.0.2/24", "300.0.0.1", "1.2.3.4.5"}) {
    EXPECT_FALSE(parse_prefix(text, error)) << text;
  }
  EXPECT_NE(error.find("not an IPv4 or IPv6 address"), std::string::npos) << error;
}

TEST(IpPrefixNetwork, ClearsHostBits) {
  std::string error;
  EXPECT_EQ(parse_prefix("192.0.2.77/24", error)->network().to_string(), "192.0.2.0/24");
  EXPECT_EQ(parse_prefix("198.51.100.255/25", error)->network().to_string(), "198.51.100.128/25");
  EXPECT_EQ(parse_prefix("2001:db8:ffff::1/36", error)->network().to_string(), "2001:db8:f000::/36");
  EXPECT_EQ(parse_prefix("10.1.2.3/0", error)->network().to_string(), "0.0.0.0/0");
}

TEST(IpPrefixContains, HoldsAddressesOfItsVersionUnderItsBits) {
  std::string error;
  auto loopback = *parse_prefix("127.0.0.0/8", error);
  EXPECT_TRUE(loopback.contains(*parse_address("127.1.2.3", error)));
  EXPECT_FALSE(loopback.contains(*parse_address("128.0.0.1", error)));
  EXPECT_FALSE(loopback.contains(*parse_address("::1", error)));
  auto mapped = *parse_prefix("::ffff:127.0.0.0/104", error);
  EXPECT_TRUE(mapped.contains(*parse_address("::ffff:127.0.0.1", error)));
  EXPECT_FALSE(mapped.contains(*parse_address("::ffff:192.0.2.1", error)));
  EXPECT_TRUE(parse_prefix("0.0.0.0/0", error)->contains(*parse_address("192.0.2.1", error)));
}

TEST(ParsePrefixList, ReadsCommaSeparatedPrefixesWithSpaces) {
  std::string error;
  auto prefixes = parse_prefix_list("0.0.0.0/0, 192.0.2.1 ,::/0", error);
  ASSERT_TRUE(prefixes) << error;
  ASSERT_EQ(prefixes->size(), 3u);
  EXPECT_EQ((*prefixes)[1].to_string(), "192.0.2.1/32");
  EXPECT_EQ((*prefixes)[2].to_string(), "::/0");
}

TEST(ParsePrefixList, RejectsEmptyItemsAndOneBadItem) {
  std::string error;
  EXPECT_FALSE(parse_prefix_list("", error));
  EXPECT_FALSE(parse_prefix_list("192.0.2.0/24,", error));
  EXPECT_EQ(error, "empty item in list");
  EXPECT_FALSE(parse_prefix_list("192.0.2.0/24,,198.51.100.0/24", error));
  EXPECT_FALSE(parse_prefix_list("192.0.2.0/24,bogus", error));
  EXPECT_NE(error.find("'bogus'"), std::string::npos) << error;
}

TEST(ParseAddressList, ReadsDnsServersOfBothFamilies) {
  std::string error;
  auto servers = parse_address_list("8.8.8.8,2001:db8::53", error);
  ASSERT_TRUE(servers) << error;
  ASSERT_EQ(servers->size(), 2u);
  EXPECT_EQ((*servers)[0].to_string(), "8.8.8.8");
  EXPECT_EQ((*servers)[1].to_string(), "2001:db8::53");
}

TEST(ParseAddressList, RejectsPrefixesAndNames) {
  std::string error;
  EXPECT_FALSE(parse_address_list("192.0.2.53/32", error));
  EXPECT_FALSE(parse_address_list("dns.example", error));
  EXPECT_FALSE(parse_address_list("192.0.2.53,", error));
}

}  // namespace
}  // namespace rtether::wire
