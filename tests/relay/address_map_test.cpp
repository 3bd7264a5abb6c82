// Address mapping: 10.0.2.2 and fd00::2:2 reach the host loopback; nothing else changes.
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

}  // namespace
}  // namespace rtether::relay
