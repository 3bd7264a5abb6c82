// `rtether client`: the Linux device side. Connects to a relay, brings up a
// tun (optionally inside a named network namespace) configured the way
// Gnirehtet's app configures its VpnService, and forwards packets both ways
// until SIGINT/SIGTERM. When the relay goes away it reconnects by itself
// (first retry at once, then 1 s doubling to 5 s) and keeps the tun, so
// connections inside the namespace only see a pause.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <poll.h>
#include <stdexcept>
#include <string>

#include "cli/app.hpp"
#include "device/ip_prefix.hpp"
#include "device/netns.hpp"
#include "device/relay_link.hpp"
#include "device/tun_builder.hpp"
#include "device/tun_forwarder.hpp"
#include "io/socket.hpp"
#include "io/log.hpp"
#include "io/signal_watcher.hpp"

namespace rtether::cli {
namespace {

using namespace std::chrono_literals;

// Default MTU: the largest a tun takes short of the 65535-byte IP limit,
// as pasta uses. Every packet costs a tun read, a relay parse and a host
// socket call, so 64 KiB segments cut the per-byte cost ~4x against
// Gnirehtet's 16384 (the stream framer takes packets up to 65535 bytes).
constexpr int kDefaultMtu = 65520;
constexpr const char* kDeviceAddress = "10.0.0.2/32";  // as Gnirehtet's app
// Only added when an IPv6 route is asked for, so the kernel has a source
// address to use on it (a unique local address; the relay maps it anyway).
constexpr const char* kDeviceAddressV6 = "fd00::2/128";
constexpr int kConnectTimeoutMs = 10000;
constexpr auto kFirstRetryDelay = 1s;
constexpr auto kMaxRetryDelay = 5s;
constexpr auto kHealthySession = 5s;

struct ClientOptions {
  std::string relay = "127.0.0.1:" + std::to_string(device::kDefaultRelayPort);
  std::string netns;
  std::string tun = device::TunDevice::kDefaultName;
  int mtu = kDefaultMtu;
  std::string dns = "8.8.8.8";
  std::string routes = "0.0.0.0/0";
  int ready_fd = -1;
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

device::IpPrefix must_parse_prefix(const char* text) {
  std::string error;
  return *device::parse_prefix(text, error);
}

// Blocks the stop signals in every thread (the forwarder's threads inherit
// the mask) and turns them into a readable fd that every wait polls on.
io::Fd make_stop_signal_fd() { return io::block_into_signal_fd({SIGINT, SIGTERM, SIGHUP}); }

bool stop_requested(int stop_fd) {
  pollfd fd{stop_fd, POLLIN, 0};
  return poll(&fd, 1, 0) > 0;
}

void log_totals(const device::ForwarderCounters& counters) {
  log::debug("totals: {} packets / {} bytes to relay, {} packets / {} bytes to tun, {} dropped",
             counters.packets_to_relay.load(), counters.bytes_to_relay.load(),
             counters.packets_to_tun.load(), counters.bytes_to_tun.load(),
             counters.tun_write_drops.load());
}

// Sleeps up to `delay`; false if a stop signal arrived first.
bool wait_or_stop(int stop_fd, std::chrono::milliseconds delay) {
  pollfd fd{stop_fd, POLLIN, 0};
  for (int attempt = 0; attempt < 100; ++attempt) {
    int ready = poll(&fd, 1, static_cast<int>(delay.count()));
    if (ready >= 0) return ready == 0;
    if (errno != EINTR) return true;
  }
  return true;
}

void signal_ready(int& ready_fd, const std::string& tun_name) {
  if (ready_fd < 0) return;
  std::string line = "ready " + tun_name + "\n";
  if (write(ready_fd, line.data(), line.size()) < 0) {
    log::warn("cannot write to --ready-fd {}: {}", ready_fd, std::strerror(errno));
  }
  close(ready_fd);
  ready_fd = -1;
}

int run_client(ClientOptions options) {
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

  device::LinuxTunBuilder builder(options.tun, options.netns);
  builder.set_mtu(options.mtu);
  builder.add_address(must_parse_prefix(kDeviceAddress));
  bool wants_ipv6 = std::any_of(routes->begin(), routes->end(), [](const auto& route) {
    return route.address.version == wire::IpVersion::V6;
  });
  if (wants_ipv6) builder.add_address(must_parse_prefix(kDeviceAddressV6));
  for (const auto& route : *routes) builder.add_route(route);
  for (const auto& server : *dns) builder.add_dns(server);

  io::Fd stop_fd = make_stop_signal_fd();
  std::optional<device::TunForwarder> forwarder;
  std::chrono::milliseconds retry_delay = 0ms;
  // Bounded by the signals: every wait below also watches stop_fd.
  for (;;) {
    auto connection = device::connect_relay(*relay, stop_fd.get(), kConnectTimeoutMs, error);
    if (stop_requested(stop_fd.get())) break;
    std::string why;
    if (connection) {
      log::info("connected to relay at {}, client id {}", relay->to_string(),
                connection->client_id);
      if (!forwarder) {
        forwarder.emplace(builder.establish());
        signal_ready(options.ready_fd, builder.tun().name());
      }
      auto started = std::chrono::steady_clock::now();
      auto end = forwarder->run(connection->stream.get(), stop_fd.get());
      log_totals(forwarder->counters());
      if (end.reason == device::SessionEnd::Reason::Cancelled) break;
      why = "relay session ended: " + end.detail;
      // Only a session that worked for a while earns an immediate retry; a
      // relay that drops us at once (bad stream, full) is not hammered.
      if (std::chrono::steady_clock::now() - started >= kHealthySession) retry_delay = 0ms;
    } else {
      why = "cannot reach relay at " + relay->to_string() + ": " + error;
    }
    log::warn("{}; retrying {}", why,
              retry_delay == 0ms ? std::string("now")
                                 : fmt::format("in {} s", retry_delay.count() / 1000.0));
    if (!wait_or_stop(stop_fd.get(), retry_delay)) break;
    retry_delay = retry_delay == 0ms
                      ? std::chrono::milliseconds(kFirstRetryDelay)
                      : std::min<std::chrono::milliseconds>(2 * retry_delay, kMaxRetryDelay);
  }
  log::info("stopping: removing tun {}", options.tun);
  return 0;
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
                      "DNS goes to /etc/netns/NAME/resolv.conf");
  command->add_option("--tun", options->tun, "Tun interface name")->capture_default_str();
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
  command->add_option("--ready-fd", options->ready_fd,
                      "Write \"ready <tun>\\n\" to this inherited fd once the tun is configured, "
                      "then close it (for a supervising process)")
      ->check(CLI::NonNegativeNumber);
  command->callback([&body, options] { body = [options] { return run_client(*options); }; });
}

}  // namespace rtether::cli
