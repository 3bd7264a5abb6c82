// BypassRoutes: keeps traffic out of a tun whose own routes would catch it.
// OpenVPN marks some pushed routes as not the VPN's (net_gateway); Android
// leaves them out of the VpnService's routes, but on Linux leaving them out
// is not enough when a wider tun route covers them (redirect-gateway def1's
// 0.0.0.0/1 and 128.0.0.0/1): each such prefix gets an explicit route
// through the network the tun is layered over (underlying_default_route:
// its gateway and device), which wins by being more specific. A prefix no
// tun route covers needs nothing: the main table already keeps it off the
// tun. The routes added are removed when a new set replaces them and on
// destruction.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "wire/ip_address.hpp"
#include "wire/ip_prefix.hpp"

namespace rtether::device {

class BypassRoutes {
 public:
  // `netns`: the named namespace of the tun (empty: the caller's);
  // `tun_prefix`: names of our tuns, never taken as the underlying device.
  BypassRoutes(std::string netns, std::string tun_prefix);
  ~BypassRoutes();
  BypassRoutes(const BypassRoutes&) = delete;
  BypassRoutes& operator=(const BypassRoutes&) = delete;

  // Installs a route for each of `bypass` that one of `tun_routes` covers
  // and removes the earlier ones not wanted any more. Returns what it could
  // not do, one line each (no underlying route, a refused route); the rest
  // is still done. Throws std::runtime_error when the namespace or netlink
  // cannot be used at all.
  std::vector<std::string> update(const std::vector<wire::IpPrefix>& bypass,
                                  const std::vector<wire::IpPrefix>& tun_routes);

  // Whether `prefix` is wholly inside one of `routes` (same IP version).
  static bool covered(const wire::IpPrefix& prefix, const std::vector<wire::IpPrefix>& routes);

 private:
  struct Installed {
    wire::IpPrefix prefix;
    int ifindex = 0;
    std::optional<wire::IpAddress> gateway;
  };
  void remove(const std::vector<Installed>& routes);

  std::string netns_;
  std::string tun_prefix_;
  std::vector<Installed> installed_;
};

}  // namespace rtether::device
