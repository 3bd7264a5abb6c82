// Every tun payload the recorded OpenVPN daemons sent parses into typed
// values and formats back byte for byte; malformed ones are refused.
#include "mgmt/tun_payloads.hpp"

#include <gtest/gtest.h>

#include "mgmt/messages.hpp"
#include "mgmt/transcript.hpp"

namespace rtether::mgmt {
namespace {

template <typename Parse>
std::string round_trip(Parse parse, const std::string& payload) {
  auto parsed = parse(payload);
  return parsed ? format_payload(*parsed) : "(refused)";
}

TEST(TunPayloads, EveryRecordedPayloadRoundTrips) {
  int checked = 0;
  for (const auto& name : testing::all_transcripts()) {
    for (const auto& event : testing::read_transcript(name)) {
      if (!event.from_daemon) continue;
      for (const auto& line : testing::crlf_lines(event.bytes)) {
        auto realtime = parse_realtime(line);
        if (!realtime || realtime->type != "NEED-OK") continue;
        auto request = parse_need_ok(realtime->body);
        ASSERT_TRUE(request) << line;
        const auto& payload = request->payload;
        if (request->type == "IFCONFIG") {
          EXPECT_EQ(round_trip(parse_ifconfig, payload), payload);
        } else if (request->type == "IFCONFIG6") {
          EXPECT_EQ(round_trip(parse_ifconfig6, payload), payload);
        } else if (request->type == "ROUTE") {
          EXPECT_EQ(round_trip(parse_route, payload), payload);
        } else if (request->type == "ROUTE6") {
          EXPECT_EQ(round_trip(parse_route6, payload), payload);
        } else if (request->type == "DNSSERVER" || request->type == "DNS6SERVER") {
          auto server = parse_dns_server(payload);
          ASSERT_TRUE(server) << line;
          EXPECT_EQ(server->to_string(), payload);
        } else {
          continue;
        }
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 77);  // all of them (tests/mgmt/data)
}

TEST(TunPayloads, IfconfigAddressDependsOnTheTopology) {
  auto net30 = parse_ifconfig("10.8.0.2 10.8.0.1 1400 net30");
  ASSERT_TRUE(net30);
  EXPECT_EQ(net30->address()->to_string(), "10.8.0.2/30");  // ics-openvpn's /30
  EXPECT_EQ(net30->mtu, 1400);
  auto subnet = parse_ifconfig("10.9.0.2 255.255.255.0 1500 subnet");
  ASSERT_TRUE(subnet);
  EXPECT_EQ(subnet->address()->to_string(), "10.9.0.2/24");
  auto holes = parse_ifconfig("10.9.0.2 255.0.255.0 1500 subnet");
  ASSERT_TRUE(holes);
  EXPECT_FALSE(holes->address());
}

TEST(TunPayloads, RoutesKeepTheirNetworkAsSentAndTheirDevice) {
  auto route = parse_route("10.99.0.0 255.255.0.0 127.100.103.119 dev android-gw");
  ASSERT_TRUE(route);
  EXPECT_EQ(route->network.to_string(), "10.99.0.0/16");
  EXPECT_EQ(route->gateway.to_string(), "127.100.103.119");
  EXPECT_EQ(route->device, "android-gw");
  RoutePayload ours{{wire::IpAddress::v4(0), 0}, wire::IpAddress::v4(0x0a000001), ""};
  EXPECT_EQ(format_payload(ours), "0.0.0.0 0.0.0.0 10.0.0.1");
  auto route6 = parse_route6("fd01::/64 (null)");
  ASSERT_TRUE(route6);
  EXPECT_EQ(route6->network.to_string(), "fd01::/64");
  EXPECT_EQ(route6->device, "(null)");
}

TEST(TunPayloads, MalformedPayloadsAreRefused) {
  EXPECT_FALSE(parse_ifconfig("10.0.0.2"));
  EXPECT_FALSE(parse_ifconfig("10.0.0.999 10.0.0.1 1500 net30"));
  EXPECT_FALSE(parse_ifconfig("fd00::2 10.0.0.1 1500 net30"));
  EXPECT_FALSE(parse_ifconfig("10.0.0.2 10.0.0.1 big net30"));
  EXPECT_FALSE(parse_ifconfig6("fd00::2 1500"));
  EXPECT_FALSE(parse_ifconfig6("10.0.0.2/32 1500"));
  EXPECT_FALSE(parse_route("10.0.0.0 255.0.255.0 10.0.0.1"));
  EXPECT_FALSE(parse_route("10.0.0.0 255.0.0.0"));
  EXPECT_FALSE(parse_route("10.0.0.0 255.0.0.0 10.0.0.1 via x"));
  EXPECT_FALSE(parse_route6("fd01:: dev"));
  EXPECT_FALSE(parse_dns_server("dns.example"));
  EXPECT_FALSE(parse_dns_server("192.0.2.53 192.0.2.54"));
}

TEST(Netmask, OnlyContiguousMasksHaveALength) {
  EXPECT_EQ(netmask_length(netmask_of(0)), 0);
  EXPECT_EQ(netmask_length(netmask_of(1)), 1);
  EXPECT_EQ(netmask_length(netmask_of(24)), 24);
  EXPECT_EQ(netmask_length(netmask_of(32)), 32);
  EXPECT_EQ(netmask_of(25).to_string(), "255.255.255.128");
  EXPECT_FALSE(netmask_length(wire::IpAddress::v4(0x00ffffff)));
  EXPECT_FALSE(netmask_length(wire::IpAddress::v4(0xff00ff00)));
}

}  // namespace
}  // namespace rtether::mgmt
