// Address mapping: 10.0.2.2 and fd00::2:2 reach the host loopback; nothing else changes.
// Which destinations reach the host's loopback (the --no-host-loopback set).
#include "relay/address_map.hpp"

#include <gtest/gtest.h>

namespace rtether::relay {
namespace {

wire::IpAddress address(const char* text) {
  wire::IpAddress parsed;
  EXPECT_TRUE(wire::IpAddress::parse(text, parsed)) << text;
  return parsed;
}

TEST(AddressMap, HostAliasV4MapsToLoopback) {
  EXPECT_EQ(host_destination(address("10.0.2.2")), address("127.0.0.1"));
}

TEST(AddressMap, HostAliasV6MapsToLoopback) {
  EXPECT_EQ(host_destination(address("fd00::2:2")), address("::1"));
}

TEST(AddressMap, OtherAddressesAreDialledAsIs) {
  EXPECT_EQ(host_destination(address("192.0.2.7")), address("192.0.2.7"));
  EXPECT_EQ(host_destination(address("10.0.2.3")), address("10.0.2.3"));
  EXPECT_EQ(host_destination(address("2001:db8::1")), address("2001:db8::1"));
}

TEST(AddressMapLoopback, AliasesLoopbackAndThisHostReachTheHostLoopback) {
  for (const char* text : {"10.0.2.2", "fd00::2:2", "127.0.0.1", "127.1.2.3", "::1",
                           "::ffff:127.0.0.1", "0.0.0.0", "0.1.2.3", "::", "::ffff:0.0.0.0"})
    EXPECT_TRUE(reaches_host_loopback(address(text))) << text;
}

TEST(AddressMapLoopback, OtherDestinationsDoNotReachTheHostLoopback) {
  for (const char* text : {"10.0.2.3", "10.0.2.1", "192.0.2.7", "fd00::2:3", "2001:db8::1",
                           "::ffff:192.0.2.1", "1.0.0.0", "255.255.255.255"})
    EXPECT_FALSE(reaches_host_loopback(address(text))) << text;
}

}  // namespace
}  // namespace rtether::relay
