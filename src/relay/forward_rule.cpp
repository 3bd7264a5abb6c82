// Parsing and printing of --forward values; grammar in forward_rule.hpp.
#include "relay/forward_rule.hpp"

#include <algorithm>

#include <fmt/core.h>

#include "wire/gnirehtet.hpp"
#include "wire/ip_packet.hpp"

namespace rtether::relay {

namespace {

// A decimal number in [min, max], digits only (no sign, no spaces).
std::optional<std::uint32_t> parse_number(const std::string& text, std::uint32_t min,
                                          std::uint32_t max) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value < min || value > max) return std::nullopt;
  return static_cast<std::uint32_t>(value);
}


}  // namespace

std::string ForwardRule::to_string() const {
  const char* name = protocol == wire::ip_protocol::kTcp ? "tcp" : "udp";
  const bool v6 = listen.address.version == wire::IpVersion::V6;
  std::string text = fmt::format("{}:{}{}{}:{}:{}", name, v6 ? "[" : "", listen.address.to_string(),
                                 v6 ? "]" : "", listen.port, device_port);
  if (client_id) text += fmt::format("@{}", *client_id);
  if (!serial.empty()) text += "@" + serial;
  return text;
}

std::optional<ForwardRule> parse_forward_rule(const std::string& text, std::string& error) {
  ForwardRule rule;
  std::string rest = text;
  if (rest.rfind("tcp:", 0) == 0) {
    rule.protocol = wire::ip_protocol::kTcp;
  } else if (rest.rfind("udp:", 0) == 0) {
    rule.protocol = wire::ip_protocol::kUdp;
  } else {
    error = fmt::format("'{}': expected tcp: or udp: first", text);
    return std::nullopt;
  }
  rest = rest.substr(4);
  if (auto at = rest.find('@'); at != std::string::npos) {
    std::string target = rest.substr(at + 1);
    if (is_serial_text(target)) {
      rule.serial = std::move(target);
    } else if (auto id = parse_number(target, 0, 0xFFFFFFFF)) {
      rule.client_id = *id;
    } else {
      error = fmt::format(
          "'{}': after @ goes a client id (a number below 2^32) or an adb serial", text);
      return std::nullopt;
    }
    rest = rest.substr(0, at);
  }
  std::string bind = wire::gnirehtet::kHostLoopbackV4.to_string();
  if (!rest.empty() && rest[0] == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      error = fmt::format("'{}': an IPv6 bind address goes in brackets, then ':'", text);
      return std::nullopt;
    }
    bind = rest.substr(1, close - 1);
    rest = rest.substr(close + 2);
  } else if (auto colons = std::count(rest.begin(), rest.end(), ':'); colons == 2) {
    auto first = rest.find(':');
    bind = rest.substr(0, first);
    rest = rest.substr(first + 1);
  }
  auto colon = rest.find(':');
  if (colon == std::string::npos || rest.find(':', colon + 1) != std::string::npos) {
    error = fmt::format("'{}': expected {}:[BIND:]HOSTPORT:DEVICEPORT[@CLIENT|@SERIAL]", text,
                        text.substr(0, 3));
    return std::nullopt;
  }
  auto host_port = parse_number(rest.substr(0, colon), 1, 65535);
  auto device_port = parse_number(rest.substr(colon + 1), 1, 65535);
  if (!host_port || !device_port) {
    error = fmt::format("'{}': ports must be numbers from 1 to 65535", text);
    return std::nullopt;
  }
  if (!wire::IpAddress::parse(bind, rule.listen.address)) {
    error = fmt::format("'{}': '{}' is not an IPv4 or IPv6 address", text, bind);
    return std::nullopt;
  }
  rule.listen.port = static_cast<std::uint16_t>(*host_port);
  rule.device_port = static_cast<std::uint16_t>(*device_port);
  return rule;
}

bool is_serial_text(std::string_view text) {
  if (text.empty() || text.size() > 255) return false;
  bool digits_only = true;
  for (char c : text) {
    if (c <= ' ' || c > '~') return false;
    if (c < '0' || c > '9') digits_only = false;
  }
  return !digits_only;
}

}  // namespace rtether::relay
