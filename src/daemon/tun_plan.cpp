// TunPlan; see tun_plan.hpp.
#include "daemon/tun_plan.hpp"

#include <cstdint>
#include <stdexcept>

#include <fmt/core.h>

namespace rtether::daemon {
namespace {

// As Gnirehtet's app.
const wire::IpAddress kDeviceAddress = wire::IpAddress::v4(0x0a000002);  // 10.0.0.2
// A unique local address; the relay maps fd00::2:2 to the host's ::1.
constexpr std::uint8_t kDeviceAddressV6Bytes[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0,
                                                    0,    0, 0, 0, 0, 0, 0, 2};
const wire::IpAddress kDeviceAddressV6 = wire::IpAddress::v6_from(kDeviceAddressV6Bytes);
constexpr int kDeviceAddressV6Length = 128;
// The ROUTE payload's gateway field: the tun is point-to-point, so any
// address does; this one is the peer of 10.0.0.2 in Gnirehtet's /30 habit.
constexpr const char* kRouteGateway = "10.0.0.1";
// ics-openvpn treats a ROUTE6 device named like this as the VPN's own.
constexpr const char* kRoute6Device = "vpnservice-tun";

std::string netmask_text(int length) {
  std::uint32_t mask = length == 0 ? 0 : 0xffffffffu << (32 - length);
  return wire::IpAddress::v4(mask).to_string();
}

}  // namespace

TunPlan TunPlan::make(int mtu, bool ipv6, const std::vector<wire::IpPrefix>& routes,
                      const std::vector<wire::IpAddress>& dns, std::string dns_domain) {
  TunPlan plan;
  plan.mtu = mtu;
  plan.ipv6 = ipv6;
  plan.dns_domain = std::move(dns_domain);
  for (const auto& route : routes) {
    if (route.address.version == wire::IpVersion::V4) {
      plan.routes4.push_back(route);
    } else if (ipv6) {
      plan.routes6.push_back(route);
    } else {
      throw std::runtime_error("IPv6 route " + route.to_string() + " given with --no-ipv6");
    }
  }
  if (ipv6 && plan.routes6.empty()) {
    wire::IpAddress any;  // ::/0
    any.version = wire::IpVersion::V6;
    plan.routes6.push_back(wire::IpPrefix{any, 0});
  }
  for (const auto& server : dns) {
    if (server.version == wire::IpVersion::V4) {
      plan.dns4.push_back(server);
    } else if (ipv6) {
      plan.dns6.push_back(server);
    }
  }
  return plan;
}

std::vector<mgmt::NeedOkRequest> TunPlan::address_requests() const {
  std::vector<mgmt::NeedOkRequest> requests;
  // LOCAL NETMASK MTU TOPOLOGY: a /32 in subnet topology, the address alone.
  requests.push_back(
      {"IFCONFIG", fmt::format("{} 255.255.255.255 {} subnet", kDeviceAddress.to_string(), mtu)});
  if (ipv6) {
    requests.push_back({"IFCONFIG6", fmt::format("{}/{} {}", kDeviceAddressV6.to_string(),
                                                 kDeviceAddressV6Length, mtu)});
  }
  return requests;
}

std::vector<mgmt::NeedOkRequest> TunPlan::route_and_dns_requests() const {
  std::vector<mgmt::NeedOkRequest> requests;
  for (const auto& route : routes4) {
    auto network = route.network();
    requests.push_back({"ROUTE", fmt::format("{} {} {}", network.address.to_string(),
                                             netmask_text(network.length), kRouteGateway)});
  }
  for (const auto& route : routes6) {
    requests.push_back(
        {"ROUTE6", fmt::format("{} {}", route.network().to_string(), kRoute6Device)});
  }
  for (const auto& server : dns6) requests.push_back({"DNS6SERVER", server.to_string()});
  for (const auto& server : dns4) requests.push_back({"DNSSERVER", server.to_string()});
  if (!dns_domain.empty()) requests.push_back({"DNSDOMAIN", dns_domain});
  return requests;
}

std::string TunPlan::tun_ipv4() const { return kDeviceAddress.to_string(); }

std::string TunPlan::tun_ipv6() const { return ipv6 ? kDeviceAddressV6.to_string() : ""; }

}  // namespace rtether::daemon
