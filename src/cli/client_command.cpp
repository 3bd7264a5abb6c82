// `rtether client`: the Linux device side, a daemon in OpenVPN's mould.
// It connects to a relay and forwards packets between a tun and the relay
// stream, but never creates the tun itself: a UI does, through the
// management interface (mgmt/), exactly as the Android app does for
// Gnirehtet and ics-openvpn does for OpenVPN. The UI is either
//   - in-process (no --management): a LinuxVpnService driven by a UiSession
//     on one end of a socketpair, so the tun is set up through the very same
//     NEED-OK exchange as with an outside UI (one code path), or
//   - outside: `--management PATH unix` (we listen) or --management-client
//     (the UI listens), e.g. `rtether vpnservice` or an Android app.
//
// One session (OpenVPN's "instance"), repeated after every restart:
//   [hold] -> ASSIGN_IP, IFCONFIG, IFCONFIG6 -> ADD_ROUTES, ROUTE..., ROUTE6...,
//   DNS6SERVER..., DNSSERVER... -> PERSIST_TUN_ACTION (NOACTION keeps the tun)
//   -> OPENTUN (fd arrives) -> TCP_CONNECT, PROTECTFD (non-loopback TCP only)
//   -> WAIT (client id) -> CONNECTED -> forward until a signal or the relay
//   goes -> RECONNECTING (then back-off: at once, then 1 s doubling to 5 s)
//   or EXITING.
// The tun survives restarts when the UI answers NOACTION, so connections in
// the namespace only see a pause while the relay is away.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <thread>

#include "cli/app.hpp"
#include "cli/linux_vpn_service.hpp"
#include "device/ip_prefix.hpp"
#include "device/netns.hpp"
#include "device/relay_link.hpp"
#include "device/tun_device.hpp"
#include "device/tun_forwarder.hpp"
#include "io/log.hpp"
#include "io/socket.hpp"
#include "mgmt/management_server.hpp"
#include "mgmt/ui_client.hpp"
#include "wire/gnirehtet.hpp"

#ifndef RTETHER_VERSION
#define RTETHER_VERSION "dev"
#endif

namespace rtether::cli {
namespace {

using namespace std::chrono_literals;

// Default MTU: the largest a tun takes short of the 65535-byte IP limit,
// as pasta uses. Every packet costs a tun read, a relay parse and a host
// socket call, so 64 KiB segments cut the per-byte cost ~4x against
// Gnirehtet's 16384 (the stream framer takes packets up to 65535 bytes).
constexpr int kDefaultMtu = 65520;
// The device addresses are wire::gnirehtet's: 10.0.0.2/32 and fd00::2/128.
constexpr int kDeviceAddressV6Length = 128;
// The ROUTE payload's gateway field: the tun is point-to-point, so any
// address does; this one is the peer of the device address in Gnirehtet's /30 habit.
constexpr const char* kRouteGateway = "10.0.0.1";
// ics-openvpn treats a ROUTE6 device named like this as the VPN's own.
constexpr const char* kRoute6Device = "vpnservice-tun";
constexpr int kConnectTimeoutMs = 10000;
constexpr auto kFirstRetryDelay = 1s;
constexpr auto kMaxRetryDelay = 5s;
constexpr auto kHealthySession = 5s;

struct ClientOptions {
  std::string relay = wire::gnirehtet::kHostLoopbackV4.to_string() + ":" +
                      std::to_string(wire::gnirehtet::kRelayPort);
  std::string netns;
  std::string tun = device::TunDevice::kDefaultName;
  int mtu = kDefaultMtu;
  std::string dns = wire::gnirehtet::kDefaultDnsServer.to_string();
  std::string routes = "0.0.0.0/0";
  std::string dns_domain;
  bool ipv6 = true;
  int ready_fd = -1;
  std::vector<std::string> management;  // PATH [unix]
  bool management_client = false;
  bool management_hold = false;
  long management_allow_uid = -1;
};

template <typename Parse>
CLI::Validator list_validator(const char* name, Parse parse) {
  return CLI::Validator(
      [parse](std::string& text) {
        std::string error;
        return parse(text, error) ? std::string() : error;
      },
      "", name);
}

std::string netmask_text(int length) {
  std::uint32_t mask = length == 0 ? 0 : 0xffffffffu << (32 - length);
  return fmt::format("{}.{}.{}.{}", mask >> 24, (mask >> 16) & 0xff, (mask >> 8) & 0xff,
                     mask & 0xff);
}

// What the daemon asks the UI for, derived from the options once.
struct TunPlan {
  int mtu = kDefaultMtu;
  bool ipv6 = false;
  std::vector<device::IpPrefix> routes4;
  std::vector<device::IpPrefix> routes6;
  std::vector<wire::IpAddress> dns4;
  std::vector<wire::IpAddress> dns6;
  std::string dns_domain;
};

void signal_ready(int& ready_fd, const std::string& tun_name) {
  if (ready_fd < 0) return;
  std::string line = "ready " + tun_name + "\n";
  if (write(ready_fd, line.data(), line.size()) < 0) {
    log::warn("cannot write to --ready-fd {}: {}", ready_fd, std::strerror(errno));
  }
  close(ready_fd);
  ready_fd = -1;
}

// Sleeps up to `delay`; false if a signal arrived first.
bool wait_or_signal(int interrupt_fd, std::chrono::milliseconds delay) {
  pollfd fd{interrupt_fd, POLLIN, 0};
  auto deadline = std::chrono::steady_clock::now() + delay;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    int ready = poll(&fd, 1, static_cast<int>(std::max<long long>(0, left.count())));
    if (ready > 0) return false;
    if (ready == 0) return true;
    if (errno != EINTR) return true;
  }
}

mgmt::StateEntry state(std::string name, std::string detail = {}) {
  mgmt::StateEntry entry;
  entry.name = std::move(name);
  entry.detail = std::move(detail);
  return entry;
}

class Daemon {
 public:
  Daemon(int ready_fd, device::RelayAddress relay, TunPlan plan,
         mgmt::ManagementServer& management, device::TunForwarder& forwarder)
      : ready_fd_(ready_fd),
        relay_(std::move(relay)),
        plan_(std::move(plan)),
        management_(management),
        forwarder_(forwarder) {}

  int run();

 private:
  enum class Step { Connected, Restart, Exit, Fatal };
  Step set_up_tun();
  Step connect_and_forward();
  // A signal interrupted a wait: what it means for the session.
  Step on_signal();
  std::optional<mgmt::NeedOkAnswer> ask(const std::string& type, const std::string& payload,
                                        int fd = -1) {
    return management_.need_ok(type, payload, fd);
  }

  int ready_fd_;
  device::RelayAddress relay_;
  TunPlan plan_;
  mgmt::ManagementServer& management_;
  device::TunForwarder& forwarder_;
  io::Fd tun_;
  std::string restart_reason_;
  std::chrono::milliseconds retry_delay_ = 0ms;
  std::string exit_reason_ = "SIGTERM";
};

Daemon::Step Daemon::on_signal() {
  auto signal = management_.take_signal();
  if (!signal) return Step::Restart;
  if (*signal == mgmt::Signal::Term || *signal == mgmt::Signal::Int) {
    exit_reason_ = mgmt::signal_name(*signal);
    return Step::Exit;
  }
  restart_reason_ = mgmt::signal_name(*signal);
  retry_delay_ = 0ms;  // a restart asked for is not a failure to back off from
  return Step::Restart;
}

Daemon::Step Daemon::set_up_tun() {
  using mgmt::StateEntry;
  StateEntry assign = state("ASSIGN_IP");
  assign.tun_ipv4 = wire::gnirehtet::kDeviceAddressV4.to_string();
  if (plan_.ipv6) assign.tun_ipv6 = wire::gnirehtet::kDeviceAddressV6.to_string();
  management_.set_state(assign);
  auto confirmed = [&](const std::string& type, const std::string& payload,
                       std::optional<mgmt::NeedOkAnswer>& answer) {
    answer = ask(type, payload);
    if (!answer) return false;
    if (answer->action != "ok") {
      management_.log("W", fmt::format("{} '{}' not confirmed ({}): skipped", type, payload,
                                       answer->action));
    }
    return true;
  };
  std::optional<mgmt::NeedOkAnswer> answer;
  if (!confirmed("IFCONFIG",
                 fmt::format("{} 255.255.255.255 {} subnet",
                             wire::gnirehtet::kDeviceAddressV4.to_string(), plan_.mtu),
                 answer)) {
    return on_signal();
  }
  if (plan_.ipv6 &&
      !confirmed("IFCONFIG6",
                 fmt::format("{}/{} {}", wire::gnirehtet::kDeviceAddressV6.to_string(),
                             kDeviceAddressV6Length, plan_.mtu),
                 answer)) {
    return on_signal();
  }
  management_.set_state(state("ADD_ROUTES"));
  for (const auto& route : plan_.routes4) {
    auto network = route.network();
    if (!confirmed("ROUTE",
                   fmt::format("{} {} {}", device::format_address(network.address),
                               netmask_text(network.length), kRouteGateway),
                   answer)) {
      return on_signal();
    }
  }
  for (const auto& route : plan_.routes6) {
    if (!confirmed("ROUTE6", fmt::format("{} {}", route.network().to_string(), kRoute6Device),
                   answer)) {
      return on_signal();
    }
  }
  for (const auto& server : plan_.dns6) {
    if (!confirmed("DNS6SERVER", device::format_address(server), answer)) return on_signal();
  }
  for (const auto& server : plan_.dns4) {
    if (!confirmed("DNSSERVER", device::format_address(server), answer)) return on_signal();
  }
  if (!plan_.dns_domain.empty() && !confirmed("DNSDOMAIN", plan_.dns_domain, answer)) {
    return on_signal();
  }
  answer = ask("PERSIST_TUN_ACTION", "tunmethod");
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
  answer = ask("OPENTUN", "tun");
  if (!answer) return on_signal();
  if (answer->action != "ok" || !answer->fd.valid() ||
      device::tun_name_of(answer->fd.get()).empty()) {
    management_.log("F", answer->action != "ok"  ? "OPENTUN cancelled by the UI"
                         : !answer->fd.valid()   ? "OPENTUN confirmed without a descriptor"
                                                 : "OPENTUN descriptor is not a tun");
    management_.fatal("ERROR: Cannot open TUN");
    return Step::Fatal;
  }
  // OPEN_BEFORE_CLOSE: the new tun is in hand, the old one may go now.
  forwarder_.set_tun(answer->fd.get());
  tun_ = std::move(answer->fd);
  log::info("tun {} received from the UI", device::tun_name_of(tun_.get()));
  return Step::Connected;
}

Daemon::Step Daemon::connect_and_forward() {
  management_.set_state(state("TCP_CONNECT"));
  std::string error;
  bool interrupted = false;
  auto protect = [&](int fd, bool leaves_host, std::string& why) {
    if (!leaves_host) return true;  // loopback and UNIX sockets need no protection
    auto answer = ask("PROTECTFD", "protect_fd_nonlocal", fd);
    if (!answer) {
      interrupted = true;
      why = "cancelled";
      return false;
    }
    return true;
  };
  auto connection = device::connect_relay(relay_, management_.interrupt_fd(), kConnectTimeoutMs,
                                          error, protect);
  if (interrupted || management_.pending_signal()) return on_signal();
  if (!connection) {
    log::warn("cannot reach relay at {}: {}", relay_.to_string(), error);
    management_.log("W", fmt::format("cannot reach relay at {}: {}", relay_.to_string(), error));
    restart_reason_ = "connection-failed";
    return Step::Restart;
  }
  management_.set_state(state("WAIT"));
  log::info("connected to relay at {}, client id {}", relay_.to_string(), connection->client_id);
  mgmt::StateEntry connected = state("CONNECTED", "SUCCESS");
  connected.tun_ipv4 = wire::gnirehtet::kDeviceAddressV4.to_string();
  if (plan_.ipv6) connected.tun_ipv6 = wire::gnirehtet::kDeviceAddressV6.to_string();
  if (relay_.kind == device::RelayAddress::Kind::Unix) {
    connected.remote_address = relay_.to_string();
  } else {
    connected.remote_address = connection->remote_address;
    connected.remote_port = connection->remote_port;
    connected.local_address = connection->local_address;
    connected.local_port = connection->local_port;
  }
  management_.set_link(connection->stream.get(), connection->leaves_host);
  management_.set_state(connected);
  management_.log("I", "Initialization Sequence Completed");
  signal_ready(ready_fd_, device::tun_name_of(tun_.get()));
  auto started = std::chrono::steady_clock::now();
  auto end = forwarder_.run(connection->stream.get(), management_.interrupt_fd());
  management_.set_link(-1, false);
  const auto& counters = forwarder_.counters();
  log::debug("totals: {} packets / {} bytes to relay, {} packets / {} bytes to tun, {} dropped",
             counters.packets_to_relay.load(), counters.bytes_to_relay.load(),
             counters.packets_to_tun.load(), counters.bytes_to_tun.load(),
             counters.tun_write_drops.load());
  if (end.reason == device::SessionEnd::Reason::Cancelled) return on_signal();
  log::warn("relay session ended: {}", end.detail);
  management_.log("W", "relay session ended: " + end.detail);
  // Only a session that worked for a while earns an immediate retry; a
  // relay that drops us at once (bad stream, full) is not hammered.
  if (std::chrono::steady_clock::now() - started >= kHealthySession) retry_delay_ = 0ms;
  restart_reason_ = "connection-reset";
  return Step::Restart;
}

int Daemon::run() {
  management_.set_state(state("CONNECTING"));
  bool after_failure = false;
  // Bounded by the signals: every wait below also watches them.
  for (;;) {
    if (management_.hold_flag()) {
      int wait_seconds = static_cast<int>((retry_delay_.count() + 999) / 1000);
      if (!management_.wait_hold_release(after_failure ? wait_seconds : 0)) {
        if (on_signal() == Step::Exit) break;
        continue;
      }
    } else if (after_failure && retry_delay_ > 0ms) {
      log::info("retrying in {} s", retry_delay_.count() / 1000.0);
      if (!wait_or_signal(management_.interrupt_fd(), retry_delay_) &&
          on_signal() == Step::Exit) {
        break;
      }
    }
    if (after_failure) {
      // First retry at once, then 1 s doubling to 5 s.
      retry_delay_ = retry_delay_ == 0ms
                         ? std::chrono::milliseconds(kFirstRetryDelay)
                         : std::min<std::chrono::milliseconds>(2 * retry_delay_, kMaxRetryDelay);
    }
    restart_reason_.clear();
    Step step = set_up_tun();
    if (step == Step::Connected) step = connect_and_forward();
    if (step == Step::Fatal) {
      log::error("the UI did not provide a tun; exiting");
      management_.set_state(state("EXITING", "tun-error"));
      management_.flush();
      return 1;
    }
    if (step == Step::Exit) break;
    after_failure = restart_reason_ == "connection-failed" || restart_reason_ == "connection-reset";
    management_.set_state(state("RECONNECTING", restart_reason_));
  }
  management_.set_state(state("EXITING", exit_reason_));
  management_.flush();
  log::info("stopping: the tun goes with its last descriptor");
  return 0;
}

// The in-process UI: a UiSession on the other end of a socketpair, building
// the tun with LinuxVpnService. It ends when the daemon closes its end.
class InProcessUi {
 public:
  InProcessUi(io::Fd socket, const ClientOptions& options)
      : service_(options.tun, options.netns),
        session_(service_, [](const mgmt::UiEvent& event) {
          if (event.kind == mgmt::UiEvent::Kind::Fatal) log::error("{}", event.text);
        }),
        client_(std::move(socket), session_),
        thread_([this] { client_.run({}); }) {}
  ~InProcessUi() { thread_.join(); }

 private:
  LinuxVpnService service_;
  mgmt::UiSession session_;
  mgmt::UiClient client_;
  std::thread thread_;
};

int run_client(ClientOptions options) {
  // A reader of --ready-fd (or a UI) that went away is an EPIPE to report,
  // not a reason to die.
  signal(SIGPIPE, SIG_IGN);
  std::string error;
  auto relay = device::parse_relay_address(options.relay, error);
  auto routes = device::parse_prefix_list(options.routes, error);
  auto dns = device::parse_address_list(options.dns, error);
  if (!relay || !routes || !dns) throw std::logic_error("validated option failed to parse");
  if (!options.netns.empty() && !device::netns_exists(options.netns)) {
    throw std::runtime_error("network namespace '" + options.netns + "' does not exist");
  }
  if (options.ready_fd >= 0) {
    // Checked now so a wrong number fails at once, not after connecting.
    if (fcntl(options.ready_fd, F_SETFD, FD_CLOEXEC) < 0) {
      throw std::runtime_error("--ready-fd " + std::to_string(options.ready_fd) +
                               " is not an open file descriptor");
    }
  }
  if (!options.management.empty() &&
      (!options.netns.empty() || options.tun != device::TunDevice::kDefaultName)) {
    log::warn("--netns and --tun are for the in-process UI; with --management the UI chooses");
  }

  TunPlan plan;
  plan.mtu = options.mtu;
  plan.ipv6 = options.ipv6;
  plan.dns_domain = options.dns_domain;
  for (const auto& route : *routes) {
    if (route.address.version == wire::IpVersion::V4) {
      plan.routes4.push_back(route);
    } else if (options.ipv6) {
      plan.routes6.push_back(route);
    } else {
      throw std::runtime_error("IPv6 route " + route.to_string() + " given with --no-ipv6");
    }
  }
  if (plan.ipv6 && plan.routes6.empty()) {
    std::string unused;
    plan.routes6.push_back(*device::parse_prefix("::/0", unused));
  }
  for (const auto& server : *dns) {
    if (server.version == wire::IpVersion::V4) {
      plan.dns4.push_back(server);
    } else if (options.ipv6) {
      plan.dns6.push_back(server);
    }
  }

  // The forwarder comes first: the management thread reads its counters.
  device::TunForwarder forwarder(-1);
  mgmt::ManagementCore::Hooks hooks;
  hooks.totals = [&forwarder] {
    const auto& counters = forwarder.counters();
    mgmt::TrafficTotals totals;
    totals.link_in = counters.bytes_to_tun.load(std::memory_order_relaxed);
    totals.link_out = counters.bytes_to_relay.load(std::memory_order_relaxed);
    totals.tun_read = totals.link_out;
    totals.tun_write = totals.link_in;
    return totals;
  };
  mgmt::ServerOptions server_options;
  server_options.title = std::string("rtether ") + RTETHER_VERSION + " Linux [TUN] [SCM_RIGHTS]";
  server_options.hold = options.management_hold;
  if (options.management_allow_uid >= 0) {
    server_options.allowed_uid = static_cast<uid_t>(options.management_allow_uid);
  }
  io::Fd ui_end;
  if (options.management.empty()) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
      throw std::runtime_error(std::string("socketpair: ") + std::strerror(errno));
    }
    server_options.mode = mgmt::ServerOptions::Mode::Attached;
    server_options.attached = io::Fd(pair[0]);
    ui_end = io::Fd(pair[1]);
  } else {
    server_options.mode = options.management_client ? mgmt::ServerOptions::Mode::Connect
                                                    : mgmt::ServerOptions::Mode::Listen;
    server_options.path = options.management[0];
  }
  // Blocks the stop/restart signals before any other thread starts, so
  // every thread inherits the mask and only the management thread sees them.
  std::optional<mgmt::ManagementServer> management;
  management.emplace(std::move(server_options), hooks);
  std::optional<InProcessUi> ui;
  if (ui_end.valid()) ui.emplace(std::move(ui_end), options);
  int status = Daemon(options.ready_fd, *relay, std::move(plan), *management, forwarder).run();
  // Closing the management socket ends the in-process UI, which then
  // removes its resolv.conf.
  management.reset();
  ui.reset();
  return status;
}

}  // namespace

void register_client(CLI::App& app, CommandBody& body) {
  auto options = std::make_shared<ClientOptions>();
  auto* command = app.add_subcommand(
      "client", "Device side on Linux: tun (optionally in a network namespace) <-> relay");
  command->add_option("--relay", options->relay,
                      "Relay to connect to: HOST:PORT, [IPV6]:PORT, or unix:PATH "
                      "(unix:@NAME = abstract socket)")
      ->capture_default_str()
      ->type_name("ADDR")
      ->check(list_validator("ADDRESS", [](const std::string& text, std::string& error) {
        return device::parse_relay_address(text, error).has_value();
      }));
  command->add_option("--netns", options->netns,
                      "Create the tun in this named network namespace (/run/netns/NAME); "
                      "DNS goes to /etc/netns/NAME/resolv.conf (in-process UI only)");
  command->add_option("--tun", options->tun, "Tun interface name (in-process UI only)")
      ->capture_default_str();
  command->add_option("--mtu", options->mtu,
                      "Tun MTU. The default is near the 65535-byte IP maximum because fewer, "
                      "larger packets cost less per byte on both sides (Gnirehtet's app: 16384)")
      ->capture_default_str()
      ->check(CLI::Range(68, 65535));
  command->add_option("-d,--dns", options->dns,
                      "DNS servers, comma-separated (never written to the default "
                      "namespace's /etc/resolv.conf)")
      ->capture_default_str()
      ->type_name("DNS[,DNS...]")
      ->check(list_validator("DNS[,DNS...]", [](const std::string& text, std::string& error) {
        return device::parse_address_list(text, error).has_value();
      }));
  command->add_option("-r,--routes", options->routes,
                      "Routes through the tun, comma-separated CIDR (bare address = host route)")
      ->capture_default_str()
      ->type_name("ROUTE[,ROUTE...]")
      ->check(list_validator("ROUTE[,ROUTE...]", [](const std::string& text, std::string& error) {
        return device::parse_prefix_list(text, error).has_value();
      }));
  command->add_option("--dns-domain", options->dns_domain,
                      "DNS search domain (resolv.conf's \"search\" line)")
      ->type_name("DOMAIN")
      ->check(list_validator("DOMAIN", [](const std::string& text, std::string& error) {
        bool ok = !text.empty() && text.find_first_of(" \t,\\'\"#;") == std::string::npos;
        if (!ok) error = "'" + text + "' is not a domain name";
        return ok;
      }));
  command->add_flag("--ipv6,!--no-ipv6", options->ipv6,
                    "IPv6 on the tun: address " +
                        wire::gnirehtet::kDeviceAddressV6.to_string() + "/" +
                        std::to_string(kDeviceAddressV6Length) +
                        " and route ::/0 (or the IPv6 routes of -r); on by default");
  command->add_option("--ready-fd", options->ready_fd,
                      "Write \"ready <tun>\\n\" to this inherited fd once connected with the "
                      "tun up, then close it (for a supervising process)")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--management", options->management,
                      "OpenVPN-style management interface on the UNIX socket PATH (created "
                      "0600): a UI such as `rtether vpnservice` sets up the tun through it")
      ->type_name("PATH [unix]")
      ->expected(1, 2);
  command->add_flag("--management-client", options->management_client,
                    "Connect to PATH, where the UI listens, instead of listening; the daemon "
                    "stops when the UI goes (as OpenVPN)");
  command->add_flag("--management-hold", options->management_hold,
                    "Wait for `hold release` at start and after every restart");
  command->add_option("--management-allow-uid", options->management_allow_uid,
                      "Also accept management clients of this uid (default: ours only)")
      ->check(CLI::NonNegativeNumber);
  command->callback([&body, options] {
    // Bad combinations are bad values: one line, exit 2, like the others.
    if (options->management.size() > 1 && options->management[1] != "unix") {
      throw CLI::ValidationError("--management", "'" + options->management[1] +
                                                     "': only 'unix' sockets are supported");
    }
    if (options->management.empty() &&
        (options->management_client || options->management_hold ||
         options->management_allow_uid >= 0)) {
      throw CLI::ValidationError("--management-*", "needs --management PATH");
    }
    body = [options] { return run_client(*options); };
  });
}

}  // namespace rtether::cli
