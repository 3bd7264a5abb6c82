// `rtether relay [-p PORT] [--bind ADDR] [--unix PATH]`: run the relay in the
// foreground until SIGINT/SIGTERM. Loopback only: a --bind beyond it needs
// --allow-remote (cli/remote_access.hpp), which also turns host loopback off
// unless --host-loopback says otherwise. --secret FILE requires the
// handshake of wire/secret_handshake.hpp; --outbound-address/-interface
// choose where host sockets leave from (cli/outbound_options.hpp).
// --forward PROTO:[BIND:]HOSTPORT:DEVICEPORT[@CLIENT] (repeatable) forwards a
// host port into a device (grammar in relay/forward_rule.hpp).
// --dns-upstream / --resolv-conf: where the device's resolver 10.0.2.3
// forwards (cli/dns_upstreams.hpp). --netns NAME|PATH|PID: direct mode, the
// relay opens the namespace's tun itself (cli/direct_mode.hpp).
// --proxy / --proxy-udp: the upstream proxy host connections go through
// (cli/proxy_options.hpp).
// --metrics [ADDR:]PORT serves Prometheus metrics (cli/metrics_option.hpp).
// --control [PATH]: the control socket for `rtether status` and `rtether
// forward` (cli/control_option.hpp).
// Under systemd (Type=notify) it reports READY=1 once every listener is open
// and STOPPING=1 when a signal ends it, a STATUS= line every
// --status-interval between (cli/service_status.hpp).
#include <fmt/format.h>
#include <csignal>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/app.hpp"
#include "cli/control_option.hpp"
#include "cli/direct_mode.hpp"
#include "cli/dns_upstreams.hpp"
#include "cli/metrics_option.hpp"
#include "cli/outbound_options.hpp"
#include "cli/proxy_options.hpp"
#include "cli/remote_access.hpp"
#include "cli/secret_file.hpp"
#include "cli/service_status.hpp"
#include "cli/status_display.hpp"
#include "cli/threads_option.hpp"
#include "io/console.hpp"
#include "io/event_loop.hpp"
#include "io/log.hpp"
#include "io/signal_watcher.hpp"
#include "relay/address_map.hpp"
#include "relay/forward_rule.hpp"
#include "relay/relay.hpp"
#include "wire/gnirehtet.hpp"

namespace rtether::cli {

namespace {
// Long enough to catch the answer of a request/response round trip on the
// host (measured: UDP p50 ~120 us -> ~55 us on a 2-vCPU VM), short enough
// that it costs nothing measurable in connection rate (docs/BENCHMARKS.md).
constexpr int kDefaultBusyPollMicroseconds = 25;
constexpr int kDefaultStatusInterval = 10;  // seconds between totals log lines

struct RelayOptions {
  std::uint16_t port = wire::gnirehtet::kRelayPort;
  std::string bind = wire::gnirehtet::kHostLoopbackV4.to_string();
  std::string unix_path;
  bool no_tcp = false;
  int busy_poll_us = kDefaultBusyPollMicroseconds;
  std::size_t threads = 1;
  int status_interval = kDefaultStatusInterval;
  std::vector<std::string> forwards;
  RemoteAccessOptions remote;
  std::string secret_file;
  OutboundValues outbound;
  std::string dns_upstream;
  std::string resolv_conf;
  std::string metrics;
  ControlOption control;
  OpenDirectDevice open_direct;  // set with --netns
  ProxyValues proxy;
};

// Where clients connect, for the service manager's status line.
std::string listening_status(const RelayOptions& options, bool listen_tcp,
                             const wire::IpAddress& address) {
  std::vector<std::string> places;
  if (options.open_direct) places.push_back("the namespace's tun (direct mode)");
  if (listen_tcp) {
    const bool v6 = address.version == wire::IpVersion::V6;
    places.push_back(
        fmt::format("{}{}{}:{}", v6 ? "[" : "", address.to_string(), v6 ? "]" : "", options.port));
  }
  if (!options.unix_path.empty()) places.push_back("unix:" + options.unix_path);
  return fmt::format("relaying; {} {}", options.open_direct ? "devices:" : "clients connect to",
                     fmt::join(places, " and "));
}

int run_relay(const RelayOptions& options) {
  // Direct mode serves one namespace's tun and listens on TCP for no one.
  const bool listen_tcp = !options.no_tcp && !options.open_direct;
  wire::IpAddress address;
  if (listen_tcp && !wire::IpAddress::parse(options.bind, address)) {
    log::error("--bind: '{}' is not an IPv4 or IPv6 address", options.bind);
    return 2;
  }
  std::vector<relay::ForwardRule> rules;
  for (const auto& text : options.forwards) {
    std::string error;
    auto rule = relay::parse_forward_rule(text, error);
    if (!rule) throw std::logic_error("validated --forward failed to parse: " + error);
    rules.push_back(*rule);
  }
  // Every listener is checked before any opens.
  if (listen_tcp) {
    if (auto refused = check_client_listener(address, options.remote,
                                                 !options.secret_file.empty()); !refused.empty()) {
      log::error("{}", refused);
      return 2;
    }
  }
  for (std::size_t i = 0; i < rules.size(); ++i) {
    auto refused = check_forward_listener(rules[i].listen.address, options.forwards[i],
                                          options.remote);
    if (!refused.empty()) {
      log::error("{}", refused);
      return 2;
    }
  }
  auto metrics = check_metrics_option(options.metrics, options.remote.allow_remote);
  if (!metrics.refused.empty()) {
    log::error("{}", metrics.refused);
    return 2;
  }
  const bool remote_clients = listen_tcp && !wire::is_loopback(address);
  relay::RelayConfig config;
  if (!options.secret_file.empty()) {
    std::string error;
    auto secret = read_secret_file(options.secret_file, error);
    if (!secret) {
      log::error("{}", error);
      return 2;
    }
    config.secret = std::move(*secret);
  }
  OutboundSettings outbound;
  if (std::string error; !build_outbound(options.outbound, outbound, error)) {
    log::error("{}", error);
    return 2;
  }
  if (auto failed = probe_outbound(outbound); !failed.empty()) {
    log::error("{}", failed);
    return 1;
  }
  config.outbound = std::move(outbound.all);
  config.client_outbound = std::move(outbound.per_client);
  config.host_loopback = host_loopback_allowed(options.remote, remote_clients);
  if (std::string error; !apply_proxy_options(options.proxy, process_environment(), config, error)) {
    log::error("{}", error);
    return 2;
  }
  // Last: a start that goes on logs where the device's queries go.
  auto dns_upstreams = choose_dns_upstreams(options.dns_upstream, options.resolv_conf);
  if (!dns_upstreams) return 2;
  config.dns_upstreams = std::move(*dns_upstreams);
  config.threads = options.threads;
  io::EventLoop loop;
  loop.set_busy_poll(std::chrono::microseconds(options.busy_poll_us));
  relay::Relay relay(loop, std::move(config));
  if (listen_tcp) relay.listen_tcp(io::Endpoint{address, options.port});
  if (!options.unix_path.empty()) relay.listen_unix(options.unix_path);
  for (const auto& rule : rules) relay.add_forward(rule);
  // Forwards added through it meet the same check as --forward's.
  auto control = open_control(options.control, loop, relay,
                              [&options](const relay::ForwardRule& rule, const std::string& text) {
                                return check_forward_listener(rule.listen.address, text,
                                                              options.remote);
                              });
  log_dns_upstreams(relay.config().dns_upstreams);
  log_proxy(relay.config());
  std::unique_ptr<relay::MetricsServer> metrics_server;
  if (metrics.at) metrics_server = start_metrics(loop, relay, *metrics.at);
  std::optional<ServiceStatus> service;
  io::SignalWatcher signals(loop, {SIGINT, SIGTERM}, [&](int signal) {
    log::info("relay stopping ({})", signal == SIGINT ? "SIGINT" : "SIGTERM");
    service->stopping("stopping");
    loop.stop();
  });
  std::unique_ptr<DirectDevice> direct;
  if (options.open_direct) direct = options.open_direct(relay, loop);
  service.emplace(loop, &relay, nullptr, listening_status(options, listen_tcp, address),
                  std::chrono::seconds(options.status_interval));
  StatusDisplay status(loop, &relay, nullptr, io::stdout_is_terminal(),
                       std::chrono::seconds(options.status_interval));
  loop.run();
  log::info("relay stopped: {}", relay.totals().summary());
  return direct && direct->lost() ? 1 : 0;
}
}  // namespace

void register_relay(CLI::App& app, CommandBody& body) {
  auto options = std::make_shared<RelayOptions>();
  auto* command = app.add_subcommand("relay", "Run the relay (host side) in the foreground");
  command->add_option("-p,--port", options->port, "TCP port to listen on")
      ->default_val(wire::gnirehtet::kRelayPort)
      ->check(CLI::Range(1, 65535));
  command
      ->add_option("--bind", options->bind,
                   "Address to listen on (default loopback only; any other needs --allow-remote)")
      ->default_val(wire::gnirehtet::kHostLoopbackV4.to_string());
  add_remote_access_options(command, options->remote);
  command->add_option("--secret", options->secret_file,
                      "Require every client to prove it knows the secret in FILE (a "
                      "nonce/HMAC-SHA256 handshake: `rtether client --secret FILE`; Gnirehtet's "
                      "app cannot, so not over adb)")
      ->type_name("FILE");
  command
      ->add_option("--outbound-address", options->outbound.addresses,
                   "Host sockets toward destinations leave from ADDR (repeatable: one IPv4, one "
                   "IPv6; ID=ADDR for the client with relay id ID only)")
      ->type_name("[ID=]ADDR")
      ->check([](const std::string& text) { return check_outbound_address(text); });
  command
      ->add_option("--outbound-interface", options->outbound.interfaces,
                   "Host sockets toward destinations leave through IFACE (Linux: "
                   "SO_BINDTODEVICE, CAP_NET_RAW before 5.7; ID=IFACE for one client only)")
      ->type_name("[ID=]IFACE")
      ->check([](const std::string& text) { return check_outbound_interface(text); });
  command->add_option("--unix", options->unix_path,
                      "Also listen on a UNIX socket (a leading @ means abstract)");
  command->add_flag("--no-tcp", options->no_tcp, "Listen on --unix only");
  command->add_option("--busy-poll-us", options->busy_poll_us,
                      "Poll this long for more work before sleeping (lower latency; 0 = never)")
      ->default_val(kDefaultBusyPollMicroseconds)
      ->check(CLI::Range(0, 1000));
  add_threads_option(command, options->threads);
  command->add_option("--status-interval", options->status_interval,
                      "Seconds between totals log lines when not on a terminal (0 = none)")
      ->default_val(kDefaultStatusInterval)
      ->check(CLI::Range(0, 86400));
  command
      ->add_option("--forward", options->forwards,
                   "Forward a host port into the device: tcp|udp:[BIND:]HOSTPORT:DEVICEPORT"
                   "[@CLIENT] (repeatable; BIND defaults to " +
                       wire::gnirehtet::kHostLoopbackV4.to_string() +
                       ", IPv6 in brackets; CLIENT defaults to the most recently connected "
                       "device)")
      ->check([](const std::string& text) {
        std::string error;
        auto rule = relay::parse_forward_rule(text, error);
        if (!rule) return error;
        // Its clients come through no adb tunnel it set up: no serials.
        if (!rule->serial.empty())
          return "'" + text + "': `relay` knows no adb serials: a client id after @ (run and "
                 "autorun take @SERIAL)";
        return std::string{};
      });
  command->add_option("--dns-upstream", options->dns_upstream,
                      "Resolvers the device's DNS server 10.0.2.3 (fd00::2:3) forwards to, in "
                      "failover order: ADDR[:PORT][,ADDR[:PORT]...], IPv6 in brackets "
                      "(default: the host's, from its resolv.conf)")
      ->check(check_dns_upstream);
  command->add_option("--resolv-conf", options->resolv_conf,
                      "Read the upstream resolvers from this resolv.conf file instead")
      ->excludes("--dns-upstream");
  add_metrics_option(command, options->metrics);
  add_control_option(command, options->control);
  add_direct_mode_options(*command, options->open_direct);
  add_proxy_options(command, options->proxy);
  command->footer(
      "Examples:\n  rtether relay\n  rtether relay -p 31417 --bind ::1\n"
      "  rtether relay --bind 192.0.2.10 --allow-remote --secret /etc/rtether/secret\n"
      "  rtether relay --unix @rtether --no-tcp\n"
      "  rtether relay --metrics 9464   (http://127.0.0.1:9464/metrics)\n"
      "  rtether relay --netns box          (Linux: serve namespace box's tun directly)\n"
      "  rtether relay --forward tcp:8080:80 --forward udp:5353:53@0\n"
      "  rtether relay --control   (then: rtether status, rtether forward add tcp:8080:80)\n"
      "  rtether relay --outbound-address 192.0.2.10 --outbound-address 1=198.51.100.7\n"
      "  rtether relay --proxy socks5://user:pass@192.0.2.8:1080\n"
      "  rtether relay --proxy http://192.0.2.8:3128 --proxy-udp direct");
  command->callback([options, &body] { body = [options] { return run_relay(*options); }; });
}

}  // namespace rtether::cli
