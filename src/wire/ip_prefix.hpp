// IpPrefix: an address and a prefix length (CIDR), and the parsing of the
// address options users type: CIDR prefixes for routes (`-r
// 0.0.0.0/0,192.0.2.0/24`, bare address = host route, as Gnirehtet accepts
// them) and address lists (`-d 8.8.8.8,2001:db8::53`). The management
// protocol's IFCONFIG/ROUTE/DNS values are kept as these types too.
//
// Pure (no sockets): the command line rejects a bad value with one clear
// line before anything touches the system.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wire/ip_address.hpp"

namespace rtether::wire {

struct IpPrefix {
  IpAddress address;
  int length = 0;  // 0..32 for IPv4, 0..128 for IPv6

  // The same prefix with every bit past `length` cleared, as routes need.
  IpPrefix network() const;
  // Whether `other` is of the same version and inside this prefix.
  bool contains(const IpAddress& other) const;
  std::string to_string() const;  // "192.0.2.0/24", "2001:db8::/32"
  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

// Longest prefix length for an address of this version (32 or 128).
int max_prefix_length(IpVersion version);

// Each parser returns the value, or nullopt with a one-line reason in
// `error`. Blanks around a value are ignored.
std::optional<IpAddress> parse_address(std::string_view text, std::string& error);
std::optional<IpPrefix> parse_prefix(std::string_view text, std::string& error);
// Comma-separated lists; an empty item (",," or a trailing comma) is an error.
std::optional<std::vector<IpPrefix>> parse_prefix_list(std::string_view text, std::string& error);
std::optional<std::vector<IpAddress>> parse_address_list(std::string_view text,
                                                         std::string& error);

}  // namespace rtether::wire
