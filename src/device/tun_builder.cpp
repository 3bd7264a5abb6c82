// LinuxTunBuilder: tun + rtnetlink + resolv.conf; see tun_builder.hpp.
#include "device/tun_builder.hpp"

#include <stdexcept>

#include "device/interface_ipv6.hpp"
#include "device/link_configurator.hpp"
#include "device/netns.hpp"
#include "io/log.hpp"

namespace rtether::device {

LinuxTunBuilder::LinuxTunBuilder(std::string tun_name, std::string netns)
    : tun_name_(std::move(tun_name)), netns_(std::move(netns)) {}

namespace {
// Packets the device's kernel may queue on the tun before dropping. The
// default (500) is less than one 1 MiB window at MTU 1500, so a single
// bulk upload overflows it whenever the forwarder is a moment late, and
// every drop costs the device a retransmission. What actually queues stays
// bounded by the TCP windows the relay advertises.
constexpr int kTunTxQueueLength = 8192;

bool has_ipv6(const std::vector<wire::IpPrefix>& prefixes) {
  for (const auto& prefix : prefixes) {
    if (prefix.address.version == wire::IpVersion::V6) return true;
  }
  return false;
}
}  // namespace

int LinuxTunBuilder::establish() {
  if (tun_) throw std::logic_error("tun already established");
  std::optional<NetnsTarget> target;
  if (!netns_.empty()) target = NetnsTarget::parse(netns_);
  {
    std::optional<NetnsGuard> inside;
    if (target) inside.emplace(*target);
    auto tun = TunDevice::open(tun_name_, vnet_header_, queues_);
    // IPv6 with neither an address nor a route is off, as Android's
    // VpnService blocks a family given neither (VpnService.Builder
    // allowFamily). While the link is still down: no link-local address is
    // ever made, so no router solicitation or MLD report reaches a relay
    // that reads every packet as IPv4 (Gnirehtet's).
    if (!has_ipv6(addresses_) && !has_ipv6(routes_)) {
      auto error = disable_ipv6(tun.name());
      if (error && error != std::errc::no_such_file_or_directory) {
        log::warn("tun {}: cannot turn IPv6 off: {}", tun.name(), error.message());
      }
    }
    // Opened inside the namespace: the netlink socket configures that one.
    LinkConfigurator links;
    links.set_mtu(tun.index(), mtu_);
    links.set_tx_queue_length(tun.index(), kTunTxQueueLength);
    // Up before routes: the kernel refuses a route through a down device.
    links.set_up(tun.index());
    for (const auto& address : addresses_) links.add_address(tun.index(), address.address, address.length);
    for (const auto& route : routes_) {
      if (route.length == 0 && netns_.empty()) {
        // The host's own default route is in the way (the kernel answers
        // "File exists") and replacing it would outlive us: take all
        // traffic with two half-space routes instead, which win by being
        // more specific and leave with the tun (OpenVPN's def1).
        auto upper = route.address;
        upper.bytes[0] = 0x80;
        links.add_route(tun.index(), route.address, 1, take_over_routes_);
        links.add_route(tun.index(), upper, 1, take_over_routes_);
        continue;
      }
      links.add_route(tun.index(), route.address, route.length, take_over_routes_);
    }
    tun_.emplace(std::move(tun));
  }
  // Only a named namespace has an /etc/netns/NAME/ for its programs; for a
  // path or a PID the servers are logged, as for the default namespace.
  resolv_conf_ =
      std::make_unique<ResolvConf>(target ? target->name : "", dns_servers_, search_domain_);
  log::info("tun {} up in {} (MTU {})", tun_->name(),
            target ? target->description() : std::string("the default namespace"), mtu_);
  return tun_->fd();
}

}  // namespace rtether::device
