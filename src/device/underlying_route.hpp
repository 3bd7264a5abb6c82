// The network a tun is layered over: the namespace's lowest-metric default
// route that is not through a tun of ours, with its gateway. Read from the
// calling thread's namespace (/proc/thread-self/net/route and ipv6_route,
// the kernel's main table), so a caller inside a NetnsGuard sees that
// namespace's. protect_socket binds sockets to its interface; BypassRoutes
// route what must not enter the tun through it.
#pragma once

#include <optional>
#include <string>

#include "wire/ip_address.hpp"

namespace rtether::device {

struct UnderlyingRoute {
  std::string interface;
  int ifindex = 0;
  std::optional<wire::IpAddress> gateway;  // nullopt: on-link (no gateway)
};

// `tun_prefix`: interface names that are ours, skipped (empty: none).
std::optional<UnderlyingRoute> underlying_default_route(wire::IpVersion version,
                                                        const std::string& tun_prefix);

}  // namespace rtether::device
