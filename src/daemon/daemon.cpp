// The daemon's session loop; see daemon.hpp.
#include "daemon/daemon.hpp"

#include <chrono>

#include <fmt/core.h>

#include "daemon/relay_protection.hpp"
#include "io/log.hpp"

namespace rtether::daemon {
namespace {

mgmt::StateEntry state(std::string name, std::string detail = {}) {
  mgmt::StateEntry entry;
  entry.name = std::move(name);
  entry.detail = std::move(detail);
  return entry;
}

}  // namespace

Daemon::Daemon(device::RelayAddress relay, TunPlan plan, ManagementPort& management,
               ForwardingPort& forwarding)
    : relay_(std::move(relay)),
      plan_(std::move(plan)),
      management_(management),
      forwarding_(forwarding) {}

mgmt::StateEntry Daemon::state_with_addresses(std::string name, std::string detail) const {
  mgmt::StateEntry entry = state(std::move(name), std::move(detail));
  entry.tun_ipv4 = plan_.tun_ipv4();
  entry.tun_ipv6 = plan_.tun_ipv6();
  return entry;
}

Daemon::Step Daemon::on_signal() {
  auto signal = management_.take_signal();
  if (signal == mgmt::Signal::Term || signal == mgmt::Signal::Int) {
    exit_reason_ = mgmt::signal_name(*signal);
    return Step::Exit;
  }
  restart_ = Restart{RestartReason::Signal, signal, {}};
  backoff_.on_restart(*restart_);
  return Step::Restart;
}

bool Daemon::confirm(const mgmt::NeedOkRequest& request) {
  auto answer = management_.need_ok(request.type, request.payload, -1);
  if (!answer) return false;
  if (answer->action != "ok") {
    management_.log("W", fmt::format("{} '{}' not confirmed ({}): skipped", request.type,
                                     request.payload, answer->action));
  }
  return true;
}

Daemon::Step Daemon::set_up_tun() {
  management_.set_state(state_with_addresses("ASSIGN_IP"));
  for (const auto& request : plan_.address_requests()) {
    if (!confirm(request)) return on_signal();
  }
  management_.set_state(state("ADD_ROUTES"));
  for (const auto& request : plan_.route_and_dns_requests()) {
    if (!confirm(request)) return on_signal();
  }
  auto answer = management_.need_ok("PERSIST_TUN_ACTION", "tunmethod", -1);
  if (!answer) return on_signal();
  if (answer->action == "NOACTION") {
    if (tun_.valid()) return Step::Connected;
    management_.log("W", "PERSIST_TUN_ACTION NOACTION with no tun open yet");
    management_.fatal("ERROR: Cannot open TUN");
    return Step::Fatal;
  }
  if (answer->action != "OPEN_BEFORE_CLOSE") {
    management_.fatal("Unknown persist tun action " + answer->action);
    return Step::Fatal;
  }
  answer = management_.need_ok("OPENTUN", "tun", -1);
  if (!answer) return on_signal();
  std::string name = answer->fd.valid() ? forwarding_.tun_name(answer->fd.get()) : "";
  if (answer->action != "ok" || name.empty()) {
    management_.log("F", answer->action != "ok" ? "OPENTUN cancelled by the UI"
                         : !answer->fd.valid()  ? "OPENTUN confirmed without a descriptor"
                                                : "OPENTUN descriptor is not a tun");
    management_.fatal("ERROR: Cannot open TUN");
    return Step::Fatal;
  }
  // OPEN_BEFORE_CLOSE: the new tun is in hand, the old one may go now.
  forwarding_.use_tun(answer->fd.get(), plan_.ipv6);
  tun_ = std::move(answer->fd);
  log::info("tun {} received from the UI", name);
  return Step::Connected;
}

Daemon::Step Daemon::connect_and_forward() {
  management_.set_state(state("TCP_CONNECT"));
  std::string error;
  bool interrupted = false;
  bool link_protected = false;
  // Called for every address tried; the last call is the socket that
  // connected, so its decision is also the one network-change needs.
  auto protect = [&](int fd, const std::optional<wire::IpAddress>& destination, std::string& why) {
    link_protected = needs_protection(destination);
    if (!link_protected) return true;
    if (!management_.need_ok("PROTECTFD", "protect_fd_nonlocal", fd)) {
      interrupted = true;
      why = "cancelled";
      return false;
    }
    return true;
  };
  auto connection = forwarding_.connect(protect, error);
  if (interrupted || management_.pending_signal()) return on_signal();
  if (!connection) {
    log::warn("cannot reach relay at {}: {}", relay_.to_string(), error);
    management_.log("W", fmt::format("cannot reach relay at {}: {}", relay_.to_string(), error));
    restart_ = Restart{RestartReason::ConnectFailed, std::nullopt, {}};
    return Step::Restart;
  }
  management_.set_state(state("WAIT"));
  log::info("connected to relay at {}, client id {}", relay_.to_string(), connection->client_id);
  mgmt::StateEntry connected = state_with_addresses("CONNECTED", "SUCCESS");
  if (relay_.kind == device::RelayAddress::Kind::Unix) {
    connected.remote_address = relay_.to_string();
  } else {
    connected.remote_address = connection->remote_address;
    connected.remote_port = connection->remote_port;
    connected.local_address = connection->local_address;
    connected.local_port = connection->local_port;
  }
  management_.set_link(connection->stream.get(), link_protected);
  management_.set_state(connected);
  management_.log("I", "Initialization Sequence Completed");
  forwarding_.announce_ready(forwarding_.tun_name(tun_.get()));
  auto started = forwarding_.now();
  auto end = forwarding_.forward(connection->stream.get());
  management_.set_link(-1, false);
  if (end.reason == device::SessionEnd::Reason::Cancelled) return on_signal();
  log::warn("relay session ended: {}", end.detail);
  management_.log("W", "relay session ended: " + end.detail);
  auto length = std::chrono::duration_cast<std::chrono::milliseconds>(forwarding_.now() - started);
  restart_ = Restart{RestartReason::RelayGone, std::nullopt, length};
  backoff_.on_restart(*restart_);
  return Step::Restart;
}

bool Daemon::wait_before_attempt(bool after_failure) {
  // Bounded by the signals: every wait also watches them. Only a stop
  // signal ends the daemon here; a restart asked for during the hold waits
  // in hold again, one during the back-off starts the attempt at once.
  for (;;) {
    if (management_.hold_flag()) {
      auto delay = after_failure ? backoff_.delay() : std::chrono::milliseconds(0);
      int wait_seconds = static_cast<int>((delay.count() + 999) / 1000);
      if (management_.wait_hold_release(wait_seconds)) break;
      if (on_signal() == Step::Exit) return false;
      continue;
    }
    if (after_failure && backoff_.delay() > std::chrono::milliseconds(0)) {
      log::info("retrying in {} s", backoff_.delay().count() / 1000.0);
      if (!management_.sleep(backoff_.delay()) && on_signal() == Step::Exit) return false;
    }
    break;
  }
  if (after_failure) backoff_.advance();
  return true;
}

int Daemon::run() {
  management_.set_state(state("CONNECTING"));
  bool after_failure = false;
  for (;;) {
    if (!wait_before_attempt(after_failure)) break;
    restart_.reset();
    Step step = set_up_tun();
    if (step == Step::Connected) step = connect_and_forward();
    if (step == Step::Fatal) {
      log::error("the UI did not provide a tun; exiting");
      management_.set_state(state("EXITING", "tun-error"));
      management_.flush();
      return 1;
    }
    if (step == Step::Exit) break;
    after_failure = restart_ && backs_off(restart_->reason);
    management_.set_state(state("RECONNECTING", restart_ ? reconnecting_detail(*restart_) : ""));
  }
  management_.set_state(state("EXITING", exit_reason_));
  management_.flush();
  log::info("stopping: the tun goes with its last descriptor");
  return 0;
}

}  // namespace rtether::daemon
