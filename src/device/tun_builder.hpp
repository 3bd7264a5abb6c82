// device/: the device side of rtether on Linux. How it fits together:
//
//   TunBuilder (VpnService.Builder shape)   <- client command, later a
//     LinuxTunBuilder: NetnsGuard (enter)      management interface
//       -> TunDevice::open (IFF_TUN|IFF_NO_PI)
//       -> LinkConfigurator (rtnetlink: MTU, up, addresses, routes)
//       -> ResolvConf (/etc/netns/NAME/resolv.conf)
//   relay_link: connect to the relay, read the 4-byte client id
//   TunForwarder: tun <-> relay stream, one session per connection
//
// Everything OS-specific about the device (tun, netlink, namespaces) stays
// in this folder; the relay never sees it.
//
// TunBuilder collects the configuration, then establish() creates the tun,
// applies it and returns the fd to read and write packets on, as Android's
// VpnService.Builder does, so the same caller can drive a real Android-like
// builder or this Linux one.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "device/ip_prefix.hpp"
#include "device/resolv_conf.hpp"
#include "device/tun_device.hpp"
#include "wire/ip_address.hpp"

namespace rtether::device {

class TunBuilder {
 public:
  virtual ~TunBuilder() = default;
  virtual void set_mtu(int mtu) = 0;
  virtual void add_address(const IpPrefix& address) = 0;
  virtual void add_route(const IpPrefix& route) = 0;
  virtual void add_dns(const wire::IpAddress& server) = 0;
  virtual void add_search_domain(const std::string& domain) = 0;
  // Creates and configures the tun; returns its packet fd, which stays owned
  // by the builder (valid until the builder is destroyed). Throws
  // std::runtime_error with the reason if the system refuses.
  virtual int establish() = 0;
};

// Builds a tun named `tun_name` inside the named network namespace `netns`
// (empty: the namespace of the calling thread, where a default route is
// added as 0.0.0.0/1 + 128.0.0.0/1 so it neither clashes with nor replaces
// the host's). Only the thread calling establish() switches namespace, and
// only for the duration of the call.
class LinuxTunBuilder final : public TunBuilder {
 public:
  LinuxTunBuilder(std::string tun_name, std::string netns);

  void set_mtu(int mtu) override { mtu_ = mtu; }
  void add_address(const IpPrefix& address) override { addresses_.push_back(address); }
  void add_route(const IpPrefix& route) override { routes_.push_back(route); }
  void add_dns(const wire::IpAddress& server) override { dns_servers_.push_back(server); }
  // One search domain (resolv.conf's "search"); a later call replaces it.
  void add_search_domain(const std::string& domain) override { search_domain_ = domain; }
  int establish() override;
  // Routes that exist already are taken over rather than refused: for a
  // tun that replaces one of ours still holding them (OPEN_BEFORE_CLOSE);
  // they then stay when the old tun goes.
  void take_over_routes() { take_over_routes_ = true; }

  // The established tun (name, ifindex); only valid after establish().
  const TunDevice& tun() const { return *tun_; }
  // After establish(): hands the packet fd over (a VpnService UI passes it
  // to the daemon and keeps no copy); the DNS file stays with the builder.
  io::Fd release_tun() { return tun_->release_fd(); }

 private:
  std::string tun_name_;
  std::string netns_;
  int mtu_ = 1500;
  std::vector<IpPrefix> addresses_;
  std::vector<IpPrefix> routes_;
  std::vector<wire::IpAddress> dns_servers_;
  std::string search_domain_;
  bool take_over_routes_ = false;
  std::optional<TunDevice> tun_;
  std::unique_ptr<ResolvConf> resolv_conf_;
};

}  // namespace rtether::device
