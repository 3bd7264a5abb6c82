// --metrics: see metrics_option.hpp.
#include "cli/metrics_option.hpp"

#include <fmt/core.h>

#include <stdexcept>

#include "cli/remote_access.hpp"
#include "relay/relay_metrics.hpp"
#include "wire/gnirehtet.hpp"
#include "wire/ip_address.hpp"

namespace rtether::cli {

std::optional<io::Endpoint> parse_metrics_address(const std::string& text, std::string& error) {
  io::Endpoint at{wire::gnirehtet::kHostLoopbackV4, 0};
  std::string port_text = text;
  if (text.starts_with('[')) {
    const auto close = text.find("]:");
    if (close == std::string::npos ||
        !wire::IpAddress::parse(text.substr(1, close - 1), at.address) ||
        at.address.version != wire::IpVersion::V6) {
      error = fmt::format("--metrics {}: expected [IPV6]:PORT", text);
      return std::nullopt;
    }
    port_text = text.substr(close + 2);
  } else if (const auto colon = text.find(':'); colon != std::string::npos) {
    if (!wire::IpAddress::parse(text.substr(0, colon), at.address) ||
        at.address.version != wire::IpVersion::V4) {
      error = fmt::format("--metrics {}: expected IPV4:PORT, [IPV6]:PORT or PORT", text);
      return std::nullopt;
    }
    port_text = text.substr(colon + 1);
  }
  auto port = wire::parse_port(port_text);
  if (!port) {
    error = fmt::format("--metrics {}: the port must be 1-65535", text);
    return std::nullopt;
  }
  at.port = *port;
  return at;
}

MetricsListener check_metrics_option(const std::string& value, bool allow_remote) {
  MetricsListener listener;
  if (value.empty()) return listener;
  std::string error;
  listener.at = parse_metrics_address(value, error);
  if (!listener.at) throw std::logic_error("validated --metrics failed to parse: " + error);
  listener.refused = check_metrics_listener(listener.at->address, value, allow_remote);
  if (!listener.refused.empty()) listener.at.reset();
  return listener;
}

void add_metrics_option(CLI::App* command, std::string& value) {
  command
      ->add_option("--metrics", value,
                   "Serve Prometheus metrics at http://ADDR:PORT/metrics (ADDR defaults to "
                   "127.0.0.1, IPv6 in brackets; beyond loopback needs --allow-remote)")
      ->type_name("[ADDR:]PORT")
      ->check([](const std::string& text) {
        std::string error;
        return parse_metrics_address(text, error) ? std::string{} : error;
      });
}

std::unique_ptr<relay::MetricsServer> start_metrics(io::EventLoop& loop, const relay::Relay& relay,
                                                    const io::Endpoint& at) {
  return std::make_unique<relay::MetricsServer>(
      loop, at, [&relay] { return relay::format_metrics(relay::take_metrics_snapshot(relay)); });
}

}  // namespace rtether::cli
