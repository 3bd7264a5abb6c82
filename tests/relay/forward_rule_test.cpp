// --forward values: the grammar of relay/forward_rule.hpp, good and bad.
#include "relay/forward_rule.hpp"

#include <gtest/gtest.h>

#include "relay/fake_device.hpp"
#include "wire/ip_packet.hpp"

namespace rtether::relay {
namespace {

using testing::address;

ForwardRule parse_ok(const std::string& text) {
  std::string error;
  auto rule = parse_forward_rule(text, error);
  EXPECT_TRUE(rule) << text << ": " << error;
  EXPECT_TRUE(error.empty());
  return rule.value_or(ForwardRule{});
}

std::string parse_error(const std::string& text) {
  std::string error;
  auto rule = parse_forward_rule(text, error);
  EXPECT_FALSE(rule) << text;
  EXPECT_FALSE(error.empty()) << text;
  return error;
}

TEST(ForwardRule, TcpDefaultsToLoopbackAndTheMostRecentDevice) {
  auto rule = parse_ok("tcp:8080:80");
  EXPECT_EQ(rule.protocol, wire::ip_protocol::kTcp);
  EXPECT_EQ(rule.listen.address, address("127.0.0.1"));
  EXPECT_EQ(rule.listen.port, 8080);
  EXPECT_EQ(rule.device_port, 80);
  EXPECT_FALSE(rule.client_id);
  EXPECT_EQ(rule.to_string(), "tcp:127.0.0.1:8080:80");
}

TEST(ForwardRule, UdpWithBindAddressAndClient) {
  auto rule = parse_ok("udp:0.0.0.0:5353:53@12");
  EXPECT_EQ(rule.protocol, wire::ip_protocol::kUdp);
  EXPECT_EQ(rule.listen.address, address("0.0.0.0"));
  EXPECT_EQ(rule.listen.port, 5353);
  EXPECT_EQ(rule.device_port, 53);
  ASSERT_TRUE(rule.client_id);
  EXPECT_EQ(*rule.client_id, 12u);
  EXPECT_EQ(rule.to_string(), "udp:0.0.0.0:5353:53@12");
}

TEST(ForwardRule, Ipv6BindAddressInBrackets) {
  auto rule = parse_ok("tcp:[::1]:2222:22");
  EXPECT_EQ(rule.listen.address, address("::1"));
  EXPECT_EQ(rule.to_string(), "tcp:[::1]:2222:22");
  EXPECT_EQ(parse_ok("tcp:[::]:1:65535@0").device_port, 65535);
}

TEST(ForwardRule, AnythingButDigitsAfterTheAtIsAnAdbSerial) {
  auto usb = parse_ok("tcp:8022:22@0123456789ABCDEF");
  EXPECT_FALSE(usb.client_id);
  EXPECT_EQ(usb.serial, "0123456789ABCDEF");
  EXPECT_EQ(usb.to_string(), "tcp:127.0.0.1:8022:22@0123456789ABCDEF");
  // adb over TCP: the serial has colons of its own, after the @.
  auto network = parse_ok("udp:[::1]:5353:53@198.51.100.2:5555");
  EXPECT_EQ(network.serial, "198.51.100.2:5555");
  EXPECT_EQ(network.listen.port, 5353);
  EXPECT_EQ(network.device_port, 53);
  EXPECT_EQ(parse_ok("tcp:1:2@emulator-5554").serial, "emulator-5554");
  EXPECT_EQ(*parse_ok("tcp:1:2@0012").client_id, 12u);
  EXPECT_TRUE(parse_ok("tcp:1:2@0012").serial.empty());
}

TEST(ForwardRule, BadValuesSayWhatIsWrong) {
  EXPECT_NE(parse_error("sctp:1:2").find("tcp: or udp:"), std::string::npos);
  EXPECT_NE(parse_error("tcp:0:80").find("1 to 65535"), std::string::npos);
  EXPECT_NE(parse_error("tcp:80:65536").find("1 to 65535"), std::string::npos);
  EXPECT_NE(parse_error("tcp:80:-1").find("1 to 65535"), std::string::npos);
  EXPECT_NE(parse_error("tcp:8080").find("HOSTPORT:DEVICEPORT"), std::string::npos);
  EXPECT_NE(parse_error("tcp:1:2:3:4").find("HOSTPORT:DEVICEPORT"), std::string::npos);
  EXPECT_NE(parse_error("tcp:nowhere:1:2").find("not an IPv4 or IPv6"), std::string::npos);
  EXPECT_NE(parse_error("tcp:[::1:1:2").find("brackets"), std::string::npos);
  EXPECT_NE(parse_error("tcp:::1:1:2").find("HOSTPORT:DEVICEPORT"), std::string::npos);
  EXPECT_NE(parse_error("tcp:1:2@").find("client id"), std::string::npos);
  EXPECT_NE(parse_error("tcp:1:2@a b").find("client id"), std::string::npos);
  EXPECT_NE(parse_error("tcp:1:2@99999999999").find("client id"), std::string::npos);
  parse_error("");
  parse_error("tcp:");
  parse_error("tcp: 1:2");
}

}  // namespace
}  // namespace rtether::relay
