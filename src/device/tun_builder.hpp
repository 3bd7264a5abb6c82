// LinuxTunBuilder: builds one configured tun, in the shape of Android's
// VpnService.Builder (setters, then establish() hands over the packet fd).
// It is the Linux mechanism behind the one seam a UI has to the system,
// mgmt::UiDevice (daemon/linux_vpn_service.hpp): there is no second,
// abstract builder interface beside it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "device/resolv_conf.hpp"
#include "device/tun_device.hpp"
#include "wire/ip_address.hpp"
#include "wire/ip_prefix.hpp"

namespace rtether::device {

// Builds a tun named `tun_name` inside the network namespace `netns`, a
// NAME, PATH or PID as NetnsTarget::parse reads it (empty: the namespace of
// the calling thread, where a default route is
// added as 0.0.0.0/1 + 128.0.0.0/1 so it neither clashes with nor replaces
// the host's). With neither an IPv6 address nor an IPv6 route, IPv6 is
// turned off on the tun before it comes up (disable_ipv6). Only the thread
// calling establish() switches namespace, and only for the duration of the
// call.
class LinuxTunBuilder {
 public:
  LinuxTunBuilder(std::string tun_name, std::string netns);

  void set_mtu(int mtu) { mtu_ = mtu; }
  // The tun with a virtio-net header (TunDevice::open): for the relay's
  // own PacketLink (direct mode).
  void set_vnet_header(bool on) { vnet_header_ = on; }
  // A multi-queue tun of `count` queues (TunDevice::open).
  void set_queues(int count) { queues_ = count; }
  void add_address(const wire::IpPrefix& address) { addresses_.push_back(address); }
  void add_route(const wire::IpPrefix& route) { routes_.push_back(route); }
  void add_dns(const wire::IpAddress& server) { dns_servers_.push_back(server); }
  // One search domain (resolv.conf's "search"); a later call replaces it.
  void add_search_domain(const std::string& domain) { search_domain_ = domain; }
  // Creates and configures the tun; returns its packet fd, which stays owned
  // by the builder until release_tun(). Throws std::runtime_error with the
  // reason if the system refuses.
  int establish();
  // Routes that exist already are taken over rather than refused: for a
  // tun that replaces one of ours still holding them (OPEN_BEFORE_CLOSE);
  // they then stay when the old tun goes.
  void take_over_routes() { take_over_routes_ = true; }

  // The established tun (name, ifindex); only valid after establish().
  const TunDevice& tun() const { return *tun_; }
  // After establish(): hands the packet fd over (a VpnService UI passes it
  // to the daemon and keeps no copy); the DNS file stays with the builder.
  io::Fd release_tun() { return tun_->release_fd(); }
  // After establish(), with set_queues(): the second queue on.
  std::vector<io::Fd> release_other_queues() { return tun_->release_other_queues(); }

 private:
  std::string tun_name_;
  std::string netns_;
  int mtu_ = 1500;
  bool vnet_header_ = false;
  int queues_ = 1;
  std::vector<wire::IpPrefix> addresses_;
  std::vector<wire::IpPrefix> routes_;
  std::vector<wire::IpAddress> dns_servers_;
  std::string search_domain_;
  bool take_over_routes_ = false;
  std::optional<TunDevice> tun_;
  std::unique_ptr<ResolvConf> resolv_conf_;
};

}  // namespace rtether::device
