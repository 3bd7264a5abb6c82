// TunPlan; see tun_plan.hpp.
#include "daemon/tun_plan.hpp"

#include <cstdint>
#include <stdexcept>

#include "mgmt/tun_payloads.hpp"
#include "wire/gnirehtet.hpp"

namespace rtether::daemon {
namespace {

// The ROUTE payload's gateway field: the tun is point-to-point, so any
// address does; this one is the peer of the device address in Gnirehtet's /30 habit.
const wire::IpAddress kRouteGateway = wire::IpAddress::v4(0x0a000001);  // 10.0.0.1
// ics-openvpn treats a ROUTE or ROUTE6 device named like this as the VPN's
// own; the gateway alone would not tell it (10.0.0.1 is outside the /32).
constexpr const char* kTunDevice = "vpnservice-tun";

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
  // A /32 in subnet topology: the address alone, no peer.
  mgmt::IfconfigPayload ifconfig{wire::gnirehtet::kDeviceAddressV4, mgmt::netmask_of(32), mtu,
                                 "subnet"};
  requests.push_back({"IFCONFIG", mgmt::format_payload(ifconfig)});
  if (ipv6) {
    mgmt::Ifconfig6Payload ifconfig6{{wire::gnirehtet::kDeviceAddressV6, kDeviceAddressV6Length},
                                     mtu};
    requests.push_back({"IFCONFIG6", mgmt::format_payload(ifconfig6)});
  }
  return requests;
}

std::vector<mgmt::NeedOkRequest> TunPlan::route_and_dns_requests() const {
  std::vector<mgmt::NeedOkRequest> requests;
  for (const auto& route : routes4) {
    mgmt::RoutePayload payload{route.network(), kRouteGateway, kTunDevice};
    requests.push_back({"ROUTE", mgmt::format_payload(payload)});
  }
  for (const auto& route : routes6) {
    mgmt::Route6Payload payload{route.network(), kTunDevice};
    requests.push_back({"ROUTE6", mgmt::format_payload(payload)});
  }
  for (const auto& server : dns6) requests.push_back({"DNS6SERVER", server.to_string()});
  for (const auto& server : dns4) requests.push_back({"DNSSERVER", server.to_string()});
  if (!dns_domain.empty()) requests.push_back({"DNSDOMAIN", dns_domain});
  return requests;
}

std::string TunPlan::tun_ipv4() const { return wire::gnirehtet::kDeviceAddressV4.to_string(); }

std::string TunPlan::tun_ipv6() const {
  return ipv6 ? wire::gnirehtet::kDeviceAddressV6.to_string() : "";
}

}  // namespace rtether::daemon
