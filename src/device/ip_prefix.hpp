// Parsing of the device-side address options: CIDR prefixes for routes
// (`-r 0.0.0.0/0,192.0.2.0/24`, bare address = host route, as Gnirehtet
// accepts them) and DNS server lists (`-d 8.8.8.8,2001:db8::53`).
//
// Parsing is pure (no sockets) so the command line can reject a bad value
// with one clear line before anything touches the system.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wire/ip_address.hpp"

namespace rtether::device {

struct IpPrefix {
  wire::IpAddress address;
  int length = 0;  // 0..32 for IPv4, 0..128 for IPv6

  // The same prefix with every bit past `length` cleared, as routes need.
  IpPrefix network() const;
  std::string to_string() const;
  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

// Each parser returns the value, or nullopt with a one-line reason in `error`.
std::optional<wire::IpAddress> parse_address(std::string_view text, std::string& error);
std::optional<IpPrefix> parse_prefix(std::string_view text, std::string& error);
std::optional<std::vector<IpPrefix>> parse_prefix_list(std::string_view text, std::string& error);
std::optional<std::vector<wire::IpAddress>> parse_address_list(std::string_view text,
                                                               std::string& error);

// Text form of an address (dotted quad or RFC 5952 IPv6).
std::string format_address(const wire::IpAddress& address);

}  // namespace rtether::device
