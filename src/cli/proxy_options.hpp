// --proxy URL|env and --proxy-udp direct|drop of `relay`, `run` and
// `autorun`: the upstream proxy every host TCP connection goes through
// (relay/upstream_proxy.hpp has the URL grammar). `--proxy env` takes the
// URL from the first of ALL_PROXY, HTTPS_PROXY, https_proxy, all_proxy that
// is set and not empty (curl's and most tools' variables), when the relay
// starts. A proxy HOST given by name is resolved there too, once, with the
// host's resolver (the first address it prefers); the relay keeps that
// address (a restart resolves it again), so the event loop never waits on
// a resolver.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "relay/config.hpp"

namespace rtether::cli {

struct ProxyValues {
  std::string proxy;  // empty: none
  std::string udp = "drop";
};

void add_proxy_options(CLI::App* command, ProxyValues& values);

// The variable's value, or nullopt when unset (std::getenv in the CLI).
using EnvironmentLookup = std::function<std::optional<std::string>(const char* name)>;
EnvironmentLookup process_environment();

// A host name's addresses, empty with the resolver's words in `error`
// (io::resolve_host_name in the CLI).
using HostResolver =
    std::function<std::vector<wire::IpAddress>(const std::string& name, std::string& error)>;
HostResolver host_resolver();

// Fills config.proxy and config.proxy_udp; false with a one-line `error`
// (a bad URL from the environment, `--proxy env` with none set, a proxy
// host name that does not resolve).
bool apply_proxy_options(const ProxyValues& values, const EnvironmentLookup& environment,
                         relay::RelayConfig& config, std::string& error,
                         const HostResolver& resolve = host_resolver());

// One line at start-up when a proxy is used: where to, and what UDP does.
void log_proxy(const relay::RelayConfig& config);

}  // namespace rtether::cli
