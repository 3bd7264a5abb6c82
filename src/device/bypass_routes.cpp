// BypassRoutes; see bypass_routes.hpp.
#include "device/bypass_routes.hpp"

#include <exception>

#include "device/link_configurator.hpp"
#include "device/netns.hpp"
#include "device/underlying_route.hpp"
#include "io/log.hpp"

namespace rtether::device {

BypassRoutes::BypassRoutes(std::string netns, std::string tun_prefix)
    : netns_(std::move(netns)), tun_prefix_(std::move(tun_prefix)) {}

BypassRoutes::~BypassRoutes() {
  try {
    remove(installed_);
  } catch (const std::exception& e) {
    log::warn("bypass routes: {}", e.what());
  }
}

bool BypassRoutes::covered(const wire::IpPrefix& prefix,
                           const std::vector<wire::IpPrefix>& routes) {
  for (const auto& route : routes) {
    if (route.address.version == prefix.address.version && route.length <= prefix.length &&
        route.contains(prefix.address)) {
      return true;
    }
  }
  return false;
}

void BypassRoutes::remove(const std::vector<Installed>& routes) {
  if (routes.empty()) return;
  std::optional<NetnsGuard> inside;
  if (!netns_.empty()) inside.emplace(netns_);
  LinkConfigurator links;
  for (const auto& route : routes) {
    try {
      links.delete_gateway_route(route.ifindex, route.prefix, route.gateway);
    } catch (const std::exception& e) {
      log::warn("bypass routes: {}", e.what());
    }
  }
}

std::vector<std::string> BypassRoutes::update(const std::vector<wire::IpPrefix>& bypass,
                                              const std::vector<wire::IpPrefix>& tun_routes) {
  std::vector<std::string> problems;
  if (bypass.empty() && installed_.empty()) return problems;
  std::vector<Installed> wanted;
  {
    std::optional<NetnsGuard> inside;
    if (!netns_.empty()) inside.emplace(netns_);
    LinkConfigurator links;
    for (const auto& prefix : bypass) {
      if (!covered(prefix, tun_routes)) continue;
      auto underlying = underlying_default_route(prefix.address.version, tun_prefix_);
      if (!underlying) {
        problems.push_back("no default route outside the tun to route " + prefix.to_string() +
                           " around it");
        continue;
      }
      Installed route{prefix.network(), underlying->ifindex, underlying->gateway};
      try {
        links.replace_gateway_route(route.ifindex, route.prefix, route.gateway);
      } catch (const std::exception& e) {
        problems.push_back(e.what());
        continue;
      }
      log::info("{} routed around the tun via {}{}", route.prefix.to_string(),
                route.gateway ? route.gateway->to_string() + " dev " : "", underlying->interface);
      wanted.push_back(route);
    }
  }
  // Earlier routes to a prefix no longer wanted go; one replaced in place
  // (same prefix) must not be deleted after its replacement.
  std::vector<Installed> stale;
  for (const auto& old : installed_) {
    bool kept = false;
    for (const auto& route : wanted) kept = kept || route.prefix == old.prefix;
    if (!kept) stale.push_back(old);
  }
  remove(stale);
  installed_ = std::move(wanted);
  return problems;
}

}  // namespace rtether::device
