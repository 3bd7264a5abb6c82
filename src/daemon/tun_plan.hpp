// TunPlan: the tun the daemon asks its UI for, derived from the options
// once, and the NEED-OK requests that describe it, with the payloads in
// OpenVPN's layout (tun.c, the Android builds recorded in tests/mgmt/data).
// The address is Gnirehtet's 10.0.0.2 (and fd00::2 for IPv6); the UI may
// not change it, only confirm or cancel each item.
#pragma once

#include <string>
#include <vector>

#include "mgmt/messages.hpp"
#include "wire/ip_address.hpp"
#include "wire/ip_prefix.hpp"

namespace rtether::daemon {

// The tun's IPv6 address is a host route: fd00::2/128.
inline constexpr int kDeviceAddressV6Length = 128;

// Default MTU: the largest a tun takes short of the 65535-byte IP limit,
// as pasta uses. Every packet costs a tun read, a relay parse and a host
// socket call, so 64 KiB segments cut the per-byte cost ~4x against
// Gnirehtet's 16384 (the stream framer takes packets up to 65535 bytes).
inline constexpr int kDefaultMtu = 65520;

struct TunPlan {
  int mtu = 0;
  bool ipv6 = false;
  std::vector<wire::IpPrefix> routes4;
  std::vector<wire::IpPrefix> routes6;
  std::vector<wire::IpAddress> dns4;
  std::vector<wire::IpAddress> dns6;
  std::string dns_domain;  // empty: none

  // Splits routes and servers by version. With `ipv6`, no IPv6 route means
  // ::/0; without it, an IPv6 route is a configuration error (throws
  // std::runtime_error) and IPv6 servers are left out.
  static TunPlan make(int mtu, bool ipv6, const std::vector<wire::IpPrefix>& routes,
                      const std::vector<wire::IpAddress>& dns, std::string dns_domain);

  // IFCONFIG, then IFCONFIG6 (with ipv6): sent in the ASSIGN_IP state.
  std::vector<mgmt::NeedOkRequest> address_requests() const;
  // ROUTE..., ROUTE6..., DNS6SERVER..., DNSSERVER..., DNSDOMAIN: sent in the
  // ADD_ROUTES state, in this order (OpenVPN's).
  std::vector<mgmt::NeedOkRequest> route_and_dns_requests() const;

  // The tun addresses for the ASSIGN_IP and CONNECTED states (IPv6: empty
  // without ipv6).
  std::string tun_ipv4() const;
  std::string tun_ipv6() const;
};

}  // namespace rtether::daemon
