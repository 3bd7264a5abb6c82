// The relay's DNS upstreams at start-up: `--dns-upstream` when given, else
// the nameservers of `--resolv-conf PATH`, else the host's own resolvers
// (io/dns_servers.hpp: /etc/resolv.conf, or the adapters' DNS servers on
// Windows). Logs the list it chose, or why there is none.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "io/socket.hpp"

namespace rtether::cli {

// nullopt (logged) when a file given with --resolv-conf cannot be read.
// Empty values: the host's resolvers (io::host_dns_servers).
std::optional<std::vector<io::Endpoint>> choose_dns_upstreams(const std::string& dns_upstream,
                                                              const std::string& resolv_conf);
// One line at start-up saying where device queries go (a warning when
// nowhere: every query is then answered SERVFAIL).
void log_dns_upstreams(const std::vector<io::Endpoint>& upstreams);

// CLI11 check of a --dns-upstream value: empty when valid, else the error.
std::string check_dns_upstream(const std::string& text);

}  // namespace rtether::cli
