// TunPlan: the NEED-OK payloads in OpenVPN's layout, and how the options
// split into IPv4 and IPv6.
#include "daemon/tun_plan.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace rtether::daemon {
namespace {

TunPlan make(bool ipv6, const char* routes, const char* dns, std::string domain = {}) {
  std::string error;
  return TunPlan::make(1400, ipv6, *wire::parse_prefix_list(routes, error),
                       *wire::parse_address_list(dns, error), std::move(domain));
}

std::vector<std::string> lines(const std::vector<mgmt::NeedOkRequest>& requests) {
  std::vector<std::string> out;
  for (const auto& request : requests) out.push_back(request.type + " " + request.payload);
  return out;
}

TEST(TunPlan, DescribesTheTunInOpenVpnsLayoutAndOrder) {
  auto plan = make(true, "192.0.2.77/24,0.0.0.0/0,2001:db8:ffff::1/36", "192.0.2.53,2001:db8::53",
                   "example.test");
  EXPECT_EQ(lines(plan.address_requests()),
            (std::vector<std::string>{"IFCONFIG 10.0.0.2 255.255.255.255 1400 subnet",
                                      "IFCONFIG6 fd00::2/128 1400"}));
  EXPECT_EQ(lines(plan.route_and_dns_requests()),
            (std::vector<std::string>{"ROUTE 192.0.2.0 255.255.255.0 10.0.0.1 dev vpnservice-tun",
                                      "ROUTE 0.0.0.0 0.0.0.0 10.0.0.1 dev vpnservice-tun",
                                      "ROUTE6 2001:db8:f000::/36 vpnservice-tun",
                                      "DNS6SERVER 2001:db8::53", "DNSSERVER 192.0.2.53",
                                      "DNSDOMAIN example.test"}));
  EXPECT_EQ(plan.tun_ipv4(), "10.0.0.2");
  EXPECT_EQ(plan.tun_ipv6(), "fd00::2");
}

TEST(TunPlan, Ipv6WithoutIpv6RoutesTakesAllOfIt) {
  auto plan = make(true, "0.0.0.0/0", "8.8.8.8");
  ASSERT_EQ(plan.routes6.size(), 1u);
  EXPECT_EQ(plan.routes6[0].to_string(), "::/0");
}

TEST(TunPlan, WithoutIpv6TheIpv6ServersAreLeftOutAndIpv6RoutesRefused) {
  auto plan = make(false, "0.0.0.0/0", "8.8.8.8,2001:db8::53");
  EXPECT_EQ(lines(plan.address_requests()),
            std::vector<std::string>{"IFCONFIG 10.0.0.2 255.255.255.255 1400 subnet"});
  EXPECT_EQ(lines(plan.route_and_dns_requests()),
            (std::vector<std::string>{"ROUTE 0.0.0.0 0.0.0.0 10.0.0.1 dev vpnservice-tun",
                                      "DNSSERVER 8.8.8.8"}));
  EXPECT_EQ(plan.tun_ipv6(), "");
  try {
    make(false, "0.0.0.0/0,2001:db8::/32", "8.8.8.8");
    FAIL() << "an IPv6 route was accepted with --no-ipv6";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "IPv6 route 2001:db8::/32 given with --no-ipv6");
  }
}

}  // namespace
}  // namespace rtether::daemon
