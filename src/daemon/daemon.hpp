// Daemon: the Linux device client's session loop, in OpenVPN's mould. It
// owns the relay link and the packet forwarding; a UI owns the tun and
// builds it when asked over the management interface (ManagementPort), as
// the Gnirehtet app's VpnService does on Android and ics-openvpn does for
// OpenVPN. Everything it touches is behind ManagementPort and
// ForwardingPort, so the whole sequence runs against fakes in tests.
//
// One session (OpenVPN's "instance"), repeated after every restart:
//   [hold] -> ASSIGN_IP: IFCONFIG, IFCONFIG6 -> ADD_ROUTES: ROUTE...,
//   ROUTE6..., DNS6SERVER..., DNSSERVER..., DNSDOMAIN -> PERSIST_TUN_ACTION
//   (NOACTION keeps the tun) -> OPENTUN (the fd comes with the answer) ->
//   TCP_CONNECT, PROTECTFD (relay_protection.hpp) -> WAIT (client id) ->
//   CONNECTED -> forward until a signal or the relay goes ->
//   RECONNECTING,<reason> (restart.hpp) or EXITING,<signal>.
// An item the UI cancels is logged and skipped (the UI owns the system);
// OPENTUN refused, or NOACTION with no tun yet, is fatal: EXITING,tun-error.
// OPEN_BEFORE_CLOSE: the new tun is in hand before the old one is closed,
// so connections in the namespace only see a pause while the relay is away.
#pragma once

#include <optional>
#include <string>

#include "daemon/forwarding_port.hpp"
#include "daemon/management_port.hpp"
#include "daemon/restart.hpp"
#include "daemon/tun_plan.hpp"
#include "device/relay_link.hpp"
#include "io/socket.hpp"

namespace rtether::daemon {

class Daemon {
 public:
  Daemon(device::RelayAddress relay, TunPlan plan, ManagementPort& management,
         ForwardingPort& forwarding);

  // Runs sessions until a stop signal (SIGTERM, SIGINT, or the UI going in
  // the roles where it owns the daemon): 0, or 1 when the UI gave no tun.
  int run();

 private:
  enum class Step { Connected, Restart, Exit, Fatal };
  // Waits before an attempt: the hold, or the back-off; false to exit.
  bool wait_before_attempt(bool after_failure);
  Step set_up_tun();
  Step connect_and_forward();
  // A wait was cut short, or the forwarder stopped, by a signal.
  Step on_signal();
  // Asks for one item; false when a signal came first.
  bool confirm(const mgmt::NeedOkRequest& request);
  mgmt::StateEntry state_with_addresses(std::string name, std::string detail = {}) const;

  device::RelayAddress relay_;
  TunPlan plan_;
  ManagementPort& management_;
  ForwardingPort& forwarding_;
  io::Fd tun_;
  std::optional<Restart> restart_;
  std::string exit_reason_ = "SIGTERM";
  RetryBackoff backoff_;
};

}  // namespace rtether::daemon
