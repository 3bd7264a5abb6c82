// underlying_default_route; see underlying_route.hpp.
#include "device/underlying_route.hpp"

#include <net/if.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>

namespace rtether::device {
namespace {

bool ours(const std::string& name, const std::string& tun_prefix) {
  return !tun_prefix.empty() && name.rfind(tun_prefix, 0) == 0;
}

std::optional<unsigned long> hex_value(const std::string& text) {
  try {
    std::size_t used = 0;
    unsigned long value = std::stoul(text, &used, 16);
    if (used != text.size()) return std::nullopt;
    return value;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// /proc/net/route: "Iface Destination Gateway Flags RefCnt Use Metric Mask
// ...", each address its 4 network-order bytes printed as one host-order
// number ("%08X"), so copying that number's memory gives the bytes back.
std::optional<UnderlyingRoute> ipv4_default(const std::string& tun_prefix) {
  std::ifstream routes("/proc/thread-self/net/route");
  std::string line;
  std::getline(routes, line);  // header
  std::optional<UnderlyingRoute> best;
  unsigned long best_metric = ~0ul;
  while (std::getline(routes, line)) {
    std::istringstream fields(line);
    std::string name, destination, gateway, flags, references, use, metric, mask;
    if (!(fields >> name >> destination >> gateway >> flags >> references >> use >> metric >>
          mask)) {
      continue;
    }
    if (destination != "00000000" || mask != "00000000" || ours(name, tun_prefix)) continue;
    auto value = hex_value(metric);
    auto raw_gateway = hex_value(gateway);
    if (!value || !raw_gateway || *value >= best_metric) continue;
    UnderlyingRoute route{name, static_cast<int>(if_nametoindex(name.c_str())), std::nullopt};
    if (*raw_gateway != 0) {
      wire::IpAddress address = wire::IpAddress::v4(0);
      auto in_memory = static_cast<std::uint32_t>(*raw_gateway);
      std::memcpy(address.bytes.data(), &in_memory, 4);
      route.gateway = address;
    }
    best = route;
    best_metric = *value;
  }
  return best;
}

// /proc/net/ipv6_route: "DEST DEST_LEN SRC SRC_LEN NEXT_HOP METRIC REFCNT
// USE FLAGS IFACE", addresses as 32 hex digits in network order.
std::optional<UnderlyingRoute> ipv6_default(const std::string& tun_prefix) {
  std::ifstream routes("/proc/thread-self/net/ipv6_route");
  std::string line;
  std::optional<UnderlyingRoute> best;
  unsigned long best_metric = ~0ul;
  while (std::getline(routes, line)) {
    std::istringstream fields(line);
    std::string destination, length, source, source_length, next_hop, metric, references, use,
        flags, name;
    if (!(fields >> destination >> length >> source >> source_length >> next_hop >> metric >>
          references >> use >> flags >> name)) {
      continue;
    }
    if (length != "00" || name == "lo" || ours(name, tun_prefix)) continue;
    auto value = hex_value(metric);
    if (!value || *value >= best_metric || next_hop.size() != 32) continue;
    UnderlyingRoute route{name, static_cast<int>(if_nametoindex(name.c_str())), std::nullopt};
    wire::IpAddress address;
    address.version = wire::IpVersion::V6;
    bool any = false;
    for (std::size_t i = 0; i < 16; ++i) {
      auto byte = hex_value(next_hop.substr(2 * i, 2));
      if (!byte) return std::nullopt;
      address.bytes[i] = static_cast<std::uint8_t>(*byte);
      any = any || *byte != 0;
    }
    if (any) route.gateway = address;
    best = route;
    best_metric = *value;
  }
  return best;
}

}  // namespace

std::optional<UnderlyingRoute> underlying_default_route(wire::IpVersion version,
                                                        const std::string& tun_prefix) {
  auto route = version == wire::IpVersion::V4 ? ipv4_default(tun_prefix) : ipv6_default(tun_prefix);
  if (route && route->ifindex == 0) return std::nullopt;  // gone meanwhile
  return route;
}

}  // namespace rtether::device
