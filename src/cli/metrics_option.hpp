// `--metrics [ADDR:]PORT` on relay, run and autorun: serve the relay's
// figures in the Prometheus text format at http://ADDR:PORT/metrics
// (relay/metrics_server.hpp, relay/relay_metrics.hpp). ADDR is an IPv4
// address or a bracketed IPv6 one ([::1]:9464); without it the endpoint
// listens on 127.0.0.1. Beyond loopback it needs --allow-remote
// (cli/remote_access.hpp): the figures name devices and their traffic.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <string>

#include "io/event_loop.hpp"
#include "io/socket.hpp"
#include "relay/metrics_server.hpp"
#include "relay/relay.hpp"

namespace rtether::cli {

std::optional<io::Endpoint> parse_metrics_address(const std::string& text, std::string& error);

// Where a --metrics value (empty: none) listens, or why it may not: a
// listener beyond loopback without `allow_remote` is refused (the error
// line); with it a warning is logged.
struct MetricsListener {
  std::optional<io::Endpoint> at;
  std::string refused;
};
MetricsListener check_metrics_option(const std::string& value, bool allow_remote);

// Adds --metrics to `command`, storing the value in `value` (empty: off).
void add_metrics_option(CLI::App* command, std::string& value);

// The MetricsServer for `relay` at `at`. Start-up: throws
// std::system_error when it cannot listen there.
std::unique_ptr<relay::MetricsServer> start_metrics(io::EventLoop& loop, const relay::Relay& relay,
                                                    const io::Endpoint& at);

}  // namespace rtether::cli
