// Choosing the DNS upstreams: see dns_upstreams.hpp.
#include "cli/dns_upstreams.hpp"

#include <stdexcept>

#include "io/dns_servers.hpp"
#include "io/log.hpp"
#include "relay/dns_upstream.hpp"
#include "wire/gnirehtet.hpp"

namespace rtether::cli {

namespace {
std::string list_text(const std::vector<io::Endpoint>& upstreams) {
  std::string text;
  for (const auto& upstream : upstreams) {
    if (!text.empty()) text += ", ";
    text += relay::to_string(upstream);
  }
  return text;
}
}  // namespace

std::string check_dns_upstream(const std::string& text) {
  std::string error;
  return relay::parse_dns_upstreams(text, error) ? std::string{} : error;
}

std::optional<std::vector<io::Endpoint>> choose_dns_upstreams(const std::string& dns_upstream,
                                                              const std::string& resolv_conf) {
  std::vector<io::Endpoint> upstreams;
  if (!dns_upstream.empty()) {
    std::string error;
    auto parsed = relay::parse_dns_upstreams(dns_upstream, error);
    if (!parsed) throw std::logic_error("validated --dns-upstream failed to parse: " + error);
    upstreams = *parsed;
  } else if (!resolv_conf.empty()) {
    auto servers = io::read_resolv_conf(resolv_conf);
    if (!servers) {
      log::error("--resolv-conf: cannot read '{}': {}", resolv_conf, servers.error().message());
      return std::nullopt;
    }
    upstreams = relay::dns_upstreams_from(*servers);
  } else {
    auto servers = io::host_dns_servers();
    if (servers) {
      upstreams = relay::dns_upstreams_from(*servers);
    } else {
      log::warn("dns: the host's resolvers cannot be read: {}", servers.error().message());
    }
  }
  return upstreams;
}

void log_dns_upstreams(const std::vector<io::Endpoint>& upstreams) {
  const std::string resolver = wire::gnirehtet::kResolverAliasV4.to_string() + " and " +
                               wire::gnirehtet::kResolverAliasV6.to_string();
  if (upstreams.empty()) {
    log::warn(
        "dns: no upstream resolver: device queries to {} are answered SERVFAIL "
        "(give --dns-upstream)",
        resolver);
  } else {
    log::info("dns: device queries to {} go to {}", resolver, list_text(upstreams));
  }
}

}  // namespace rtether::cli
