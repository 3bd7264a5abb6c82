// LinuxVpnService; see linux_vpn_service.hpp.
#include "daemon/linux_vpn_service.hpp"

#include <stdexcept>

#include "device/protect.hpp"
#include "io/log.hpp"

namespace rtether::daemon {

LinuxVpnService::LinuxVpnService(std::string tun_name, std::string netns)
    : tun_name_(tun_name), netns_(netns), bypass_(netns, tun_name) {}

LinuxVpnService::~LinuxVpnService() = default;

io::Fd LinuxVpnService::open_tun(const mgmt::TunConfig& config, std::string& error) {
  if (config.mtu < 68 || config.mtu > 65535) {
    error = "MTU " + std::to_string(config.mtu) + " out of range";
    return {};
  }
  // Before the tun's routes exist, so what they would catch never enters it.
  try {
    for (const auto& problem : bypass_.update(config.bypass_routes, config.routes)) {
      log::warn("tun {}: {}", tun_name_, problem);
    }
  } catch (const std::exception& e) {
    error = e.what();  // the namespace or netlink refused: no tun either
    return {};
  }
  // The previous builder's resolv.conf goes first (the new one rewrites it);
  // its tun, if any, stays with the daemon until it closes it.
  builder_.reset();
  // With OPEN_BEFORE_CLOSE the daemon's old tun (ours, or an earlier UI's)
  // still holds its name and its routes: then use the other name and take
  // the routes over, so they stay when the old tun goes.
  struct Attempt {
    std::string name;
    bool take_over;
  };
  const Attempt attempts[] = {
      {tun_name_, false}, {tun_name_ + "-1", true}, {tun_name_, true}};
  for (const auto& [name, take_over] : attempts) {
    auto builder = std::make_unique<device::LinuxTunBuilder>(name, netns_);
    if (take_over) builder->take_over_routes();
    builder->set_mtu(config.mtu);
    if (config.ipv4) builder->add_address(*config.ipv4);
    if (config.ipv6) builder->add_address(*config.ipv6);
    for (const auto& route : config.routes) builder->add_route(route);
    for (const auto& server : config.dns) builder->add_dns(server);
    if (!config.domain.empty()) builder->add_search_domain(config.domain);
    try {
      builder->establish();
    } catch (const std::exception& e) {
      error = e.what();
      continue;
    }
    opened_name_ = builder->tun().name();
    io::Fd fd = builder->release_tun();
    builder_ = std::move(builder);
    return fd;
  }
  return {};
}

bool LinuxVpnService::protect(int fd, std::string& detail) {
  auto result = device::protect_socket(fd, netns_, tun_name_);
  detail = result.detail;
  return result.ok;
}

}  // namespace rtether::daemon
