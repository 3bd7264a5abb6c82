// The address and port helpers of wire/ip_address.hpp that every layer
// shares: unmapped, is_loopback and parse_port.
#include <gtest/gtest.h>

#include "wire/ip_address.hpp"

namespace rtether::wire {
namespace {

IpAddress address(const char* text) {
  IpAddress parsed;
  EXPECT_TRUE(IpAddress::parse(text, parsed)) << text;
  return parsed;
}

TEST(Unmapped, GivesTheIpv4AddressOfAMappedOneAndLeavesOthers) {
  EXPECT_EQ(unmapped(address("::ffff:192.0.2.1")), address("192.0.2.1"));
  EXPECT_EQ(unmapped(address("192.0.2.1")), address("192.0.2.1"));
  EXPECT_EQ(unmapped(address("::192.0.2.1")), address("::192.0.2.1"));
  EXPECT_EQ(unmapped(address("2001:db8::ffff:1")), address("2001:db8::ffff:1"));
}

TEST(IsLoopback, LoopbackAddressesInEveryForm) {
  for (const char* text : {"127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1"})
    EXPECT_TRUE(is_loopback(address(text))) << text;
  for (const char* text : {"0.0.0.0", "::", "10.0.2.2", "128.0.0.1", "::2", "::ffff:10.0.0.1",
                           "::127.0.0.1", "fe80::1", "1::1"})
    EXPECT_FALSE(is_loopback(address(text))) << text;
}

TEST(ParsePort, TakesDecimalPortsFromOneTo65535) {
  EXPECT_EQ(parse_port("1"), 1);
  EXPECT_EQ(parse_port("53"), 53);
  EXPECT_EQ(parse_port("00080"), 80);
  EXPECT_EQ(parse_port("65535"), 65535);
  for (const char* text : {"", "0", "65536", "99999", "000080", "-1", "+1", " 1", "1 ", "0x10",
                           "1a", "4294967297"})
    EXPECT_FALSE(parse_port(text).has_value()) << '"' << text << '"';
}

}  // namespace
}  // namespace rtether::wire
