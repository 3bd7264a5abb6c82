// DNS upstream lists: see dns_upstream.hpp.
#include "relay/dns_upstream.hpp"

#include <fmt/core.h>

#include "wire/gnirehtet.hpp"

namespace rtether::relay {

namespace {
std::optional<io::Endpoint> parse_upstream(const std::string& item, std::string& error) {
  std::string address_text = item;
  std::optional<std::string> port_text;  // after a ':', empty ones refused below
  const bool bracketed = item.starts_with('[');
  if (bracketed) {
    const auto close = item.find(']');
    if (close == std::string::npos) {
      error = fmt::format("'{}': missing ']'", item);
      return std::nullopt;
    }
    address_text = item.substr(1, close - 1);
    if (close + 1 < item.size()) {
      if (item[close + 1] != ':') {
        error = fmt::format("'{}': expected :PORT after ']'", item);
        return std::nullopt;
      }
      port_text = item.substr(close + 2);
    }
  } else if (const auto colon = item.find(':'); colon != std::string::npos) {
    if (item.find(':', colon + 1) != std::string::npos) {
      error = fmt::format("'{}': an IPv6 address goes in brackets ([ADDR] or [ADDR]:PORT)", item);
      return std::nullopt;
    }
    address_text = item.substr(0, colon);
    port_text = item.substr(colon + 1);
  }
  io::Endpoint upstream;
  upstream.port = wire::gnirehtet::kDnsPort;
  if (!wire::IpAddress::parse(address_text, upstream.address) ||
      bracketed != (upstream.address.version == wire::IpVersion::V6)) {
    error = fmt::format("'{}': not an IPv4 address or a bracketed IPv6 address", item);
    return std::nullopt;
  }
  if (port_text) {
    auto port = wire::parse_port(*port_text);
    if (!port) {
      error = fmt::format("'{}': the port must be 1-65535", item);
      return std::nullopt;
    }
    upstream.port = *port;
  }
  return upstream;
}
}  // namespace

std::optional<std::vector<io::Endpoint>> parse_dns_upstreams(const std::string& text,
                                                             std::string& error) {
  std::vector<io::Endpoint> upstreams;
  std::size_t start = 0;
  while (true) {
    const auto comma = text.find(',', start);
    const std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty()) {
      error = fmt::format("'{}': empty entry (ADDR[:PORT][,ADDR[:PORT]...])", text);
      return std::nullopt;
    }
    auto upstream = parse_upstream(item, error);
    if (!upstream) return std::nullopt;
    upstreams.push_back(*upstream);
    if (comma == std::string::npos) return upstreams;
    start = comma + 1;
  }
}

std::vector<io::Endpoint> dns_upstreams_from(const std::vector<wire::IpAddress>& servers) {
  std::vector<io::Endpoint> upstreams;
  for (const auto& server : servers) upstreams.push_back({server, wire::gnirehtet::kDnsPort});
  return upstreams;
}

std::string to_string(const io::Endpoint& upstream) {
  const bool v6 = upstream.address.version == wire::IpVersion::V6;
  return fmt::format("{}{}{}:{}", v6 ? "[" : "", upstream.address.to_string(), v6 ? "]" : "",
                     upstream.port);
}

}  // namespace rtether::relay
