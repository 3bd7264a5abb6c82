// The -d/-r values of start/restart/run/autostart/autorun as the Gnirehtet
// app receives them (`am start ... --esa dnsServers LIST --esa routes LIST`):
// the parsed values in canonical text joined with ',' and nothing else, so
// what was validated is what is sent (adb joins shell arguments with spaces:
// a space left in "8.8.8.8, 1.1.1.1" would reach the device as a stray word).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rtether::cli {

// "8.8.8.8, 2001:DB8::53" -> "8.8.8.8,2001:db8::53"; nullopt with `error`.
std::optional<std::string> canonical_dns_list(std::string_view text, std::string& error);
// " 10.1.2.3/8 ,192.0.2.1" -> "10.0.0.0/8,192.0.2.1/32" (host bits cleared,
// as Android's VpnService requires; a bare address is a host route).
std::optional<std::string> canonical_route_list(std::string_view text, std::string& error);

}  // namespace rtether::cli
