// `rtether relay [-p PORT] [--bind ADDR] [--unix PATH]`: run the relay in the
// foreground until SIGINT/SIGTERM. Loopback only unless --bind says otherwise.
// --forward PROTO:[BIND:]HOSTPORT:DEVICEPORT[@CLIENT] (repeatable) forwards a
// host port into a device (grammar in relay/forward_rule.hpp).
#include <csignal>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/app.hpp"
#include "cli/status_display.hpp"
#include "io/console.hpp"
#include "io/event_loop.hpp"
#include "io/log.hpp"
#include "io/signal_watcher.hpp"
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
  int status_interval = kDefaultStatusInterval;
  std::vector<std::string> forwards;
};

int run_relay(const RelayOptions& options) {
  io::EventLoop loop;
  loop.set_busy_poll(std::chrono::microseconds(options.busy_poll_us));
  relay::Relay relay(loop, relay::RelayConfig{});
  if (!options.no_tcp) {
    wire::IpAddress address;
    if (!wire::IpAddress::parse(options.bind, address)) {
      log::error("--bind: '{}' is not an IPv4 or IPv6 address", options.bind);
      return 2;
    }
    relay.listen_tcp(io::Endpoint{address, options.port});
  }
  if (!options.unix_path.empty()) relay.listen_unix(options.unix_path);
  for (const auto& text : options.forwards) {
    std::string error;
    auto rule = relay::parse_forward_rule(text, error);
    if (!rule) throw std::logic_error("validated --forward failed to parse: " + error);
    relay.add_forward(*rule);
  }
  io::SignalWatcher signals(loop, {SIGINT, SIGTERM}, [&](int signal) {
    log::info("relay stopping ({})", signal == SIGINT ? "SIGINT" : "SIGTERM");
    loop.stop();
  });
  StatusDisplay status(loop, &relay, nullptr, io::stdout_is_terminal(),
                       std::chrono::seconds(options.status_interval));
  loop.run();
  log::info("relay stopped: {}", relay.totals().summary());
  return 0;
}
}  // namespace

void register_relay(CLI::App& app, CommandBody& body) {
  auto options = std::make_shared<RelayOptions>();
  auto* command = app.add_subcommand("relay", "Run the relay (host side) in the foreground");
  command->add_option("-p,--port", options->port, "TCP port to listen on")
      ->default_val(wire::gnirehtet::kRelayPort)
      ->check(CLI::Range(1, 65535));
  command->add_option("--bind", options->bind, "Address to listen on (default loopback only)")
      ->default_val(wire::gnirehtet::kHostLoopbackV4.to_string());
  command->add_option("--unix", options->unix_path,
                      "Also listen on a UNIX socket (a leading @ means abstract)");
  command->add_flag("--no-tcp", options->no_tcp, "Listen on --unix only");
  command->add_option("--busy-poll-us", options->busy_poll_us,
                      "Poll this long for more work before sleeping (lower latency; 0 = never)")
      ->default_val(kDefaultBusyPollMicroseconds)
      ->check(CLI::Range(0, 1000));
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
        return relay::parse_forward_rule(text, error) ? std::string{} : error;
      });
  command->footer(
      "Examples:\n  rtether relay\n  rtether relay -p 31417 --bind 0.0.0.0\n"
      "  rtether relay --unix @rtether --no-tcp\n"
      "  rtether relay --forward tcp:8080:80 --forward udp:5353:53@0");
  command->callback([options, &body] { body = [options] { return run_relay(*options); }; });
}

}  // namespace rtether::cli
