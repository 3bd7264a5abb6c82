// --outbound-address / --outbound-interface values: the syntax of each,
// one address per IP version and one interface per scope, and clients
// that start from the relay-wide values.
#include "cli/outbound_options.hpp"

#include <gtest/gtest.h>

namespace rtether::cli {
namespace {

wire::IpAddress address(const char* text) {
  wire::IpAddress parsed;
  EXPECT_TRUE(wire::IpAddress::parse(text, parsed)) << text;
  return parsed;
}

TEST(OutboundValue, AcceptsAddressesAndInterfacesWithOrWithoutAClientId) {
  for (const char* text : {"192.0.2.1", "2001:db8::1", "0=192.0.2.1", "12=::1"})
    EXPECT_EQ(check_outbound_address(text), "") << text;
  for (const char* text : {"eth0", "3=wlan0", "lo"})
    EXPECT_EQ(check_outbound_interface(text), "") << text;
}

TEST(OutboundValue, RefusesBadValuesWithAReason) {
  for (const char* text : {"", "eth0", "1.2.3", "x=192.0.2.1", "=192.0.2.1", "-1=::1",
                           "1=", "192.0.2.1:80"})
    EXPECT_NE(check_outbound_address(text), "") << text;
  for (const char* text : {"", "x=eth0", "1=", "a b", "../eth0"})
    EXPECT_NE(check_outbound_interface(text), "") << text;
}

TEST(BuildOutbound, OneAddressOfEachVersionAndAnInterfaceForAllClients) {
  OutboundSettings settings;
  std::string error;
  ASSERT_TRUE(build_outbound({{"192.0.2.1", "2001:db8::7"}, {"eth1"}}, settings, error)) << error;
  EXPECT_EQ(settings.all.address_v4, address("192.0.2.1"));
  EXPECT_EQ(settings.all.address_v6, address("2001:db8::7"));
  EXPECT_EQ(settings.all.interface_name, "eth1");
  EXPECT_TRUE(settings.per_client.empty());
}

TEST(BuildOutbound, TwoAddressesOfOneVersionInOneScopeAreRefused) {
  OutboundSettings settings;
  std::string error;
  EXPECT_FALSE(build_outbound({{"192.0.2.1", "192.0.2.2"}, {}}, settings, error));
  EXPECT_NE(error.find("two IPv4 addresses for all clients"), std::string::npos) << error;
  EXPECT_FALSE(build_outbound({{"1=::1", "1=::2"}, {}}, settings, error));
  EXPECT_NE(error.find("two IPv6 addresses for client 1"), std::string::npos) << error;
  EXPECT_FALSE(build_outbound({{}, {"eth0", "eth1"}}, settings, error));
  EXPECT_NE(error.find("two interfaces"), std::string::npos) << error;
}

TEST(BuildOutbound, AClientStartsFromTheRelayWideValuesAndReplacesItsOwn) {
  OutboundSettings settings;
  std::string error;
  ASSERT_TRUE(build_outbound({{"2=198.51.100.7", "192.0.2.1", "2001:db8::7"}, {"5=wlan0"}},
                             settings, error))
      << error;
  ASSERT_EQ(settings.per_client.size(), 2u);
  const auto& two = settings.per_client.at(2);
  EXPECT_EQ(two.address_v4, address("198.51.100.7"));
  EXPECT_EQ(two.address_v6, address("2001:db8::7"));
  EXPECT_EQ(two.interface_name, "");
  const auto& five = settings.per_client.at(5);
  EXPECT_EQ(five.address_v4, address("192.0.2.1"));
  EXPECT_EQ(five.interface_name, "wlan0");
}

TEST(OutboundValue, SerialScopesOnlyWhereTheRelayKnowsSerials) {
  constexpr auto kSerials = OutboundScopes::ClientIdsAndSerials;
  for (const char* text : {"R58M123ABC=192.0.2.1", "198.51.100.2:5555=2001:db8::1", "3=::1"})
    EXPECT_EQ(check_outbound_address(text, kSerials), "") << text;
  EXPECT_EQ(check_outbound_interface("emulator-5554=eth1", kSerials), "");
  EXPECT_NE(check_outbound_address("R58M123ABC=192.0.2.1"), "");
  EXPECT_NE(check_outbound_address("a b=192.0.2.1", kSerials), "");
  EXPECT_NE(check_outbound_address("=192.0.2.1", kSerials), "");
  EXPECT_NE(check_outbound_interface("R58M=", kSerials), "");
}

TEST(BuildOutbound, ADeviceStartsFromTheRelayWideValuesAndReplacesItsOwn) {
  OutboundSettings settings;
  std::string error;
  ASSERT_TRUE(build_outbound({{"192.0.2.1", "198.51.100.2:5555=198.51.100.7", "4=192.0.2.9"},
                              {"198.51.100.2:5555=wlan0", "eth0"}},
                             settings, error, OutboundScopes::ClientIdsAndSerials))
      << error;
  ASSERT_EQ(settings.per_serial.size(), 1u);
  const auto& phone = settings.per_serial.at("198.51.100.2:5555");
  EXPECT_EQ(phone.address_v4, address("198.51.100.7"));
  EXPECT_EQ(phone.interface_name, "wlan0");
  ASSERT_EQ(settings.per_client.size(), 1u);
  EXPECT_EQ(settings.per_client.at(4).interface_name, "eth0");
  EXPECT_FALSE(build_outbound({{"R58M=192.0.2.1", "R58M=192.0.2.2"}, {}}, settings, error,
                              OutboundScopes::ClientIdsAndSerials));
  EXPECT_NE(error.find("two IPv4 addresses for device R58M"), std::string::npos) << error;
  EXPECT_FALSE(build_outbound({{"R58M=192.0.2.1"}, {}}, settings, error));
  EXPECT_NE(error.find("ID a client id"), std::string::npos) << error;
}

}  // namespace
}  // namespace rtether::cli
