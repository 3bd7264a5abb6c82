// LinuxVpnService: the system side of a management UI on Linux, standing in
// for Android's VpnService: builds the tun a daemon asked for (in a named
// network namespace, configured over netlink by LinuxTunBuilder) and
// protects the daemon's relay socket (device/protect.hpp). The routes the
// daemon marks as not the VPN's (TunConfig::bypass_routes) are routed
// around the tun where its routes would catch them (device::BypassRoutes),
// and stay so while the service lives. Used by
// `rtether vpnservice` and by `rtether client`'s in-process UI. It lives in
// daemon/ because it is the first layer that sees both the protocol's seam
// (mgmt::UiDevice) and the Linux mechanisms (device/); device/ stays free of
// the management protocol.
#pragma once

#include <memory>
#include <string>

#include "device/bypass_routes.hpp"
#include "device/tun_builder.hpp"
#include "mgmt/ui_session.hpp"

namespace rtether::daemon {

class LinuxVpnService final : public mgmt::UiDevice {
 public:
  LinuxVpnService(std::string tun_name, std::string netns);
  ~LinuxVpnService() override;

  io::Fd open_tun(const mgmt::TunConfig& config, std::string& error) override;
  bool protect(int fd, std::string& detail) override;

  // Name of the last tun opened (empty before the first).
  const std::string& tun_name() const { return opened_name_; }

 private:
  std::string tun_name_;
  std::string netns_;
  std::string opened_name_;
  // The last builder keeps the namespace's resolv.conf; its tun fd went to
  // the daemon, so the tun lives exactly as long as the daemon keeps it.
  std::unique_ptr<device::LinuxTunBuilder> builder_;
  device::BypassRoutes bypass_;
};

}  // namespace rtether::daemon
