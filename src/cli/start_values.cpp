// Canonical -d/-r lists; see start_values.hpp.
#include "cli/start_values.hpp"

#include "wire/ip_prefix.hpp"

namespace rtether::cli {

std::optional<std::string> canonical_dns_list(std::string_view text, std::string& error) {
  auto addresses = wire::parse_address_list(text, error);
  if (!addresses) return std::nullopt;
  std::string list;
  for (const auto& address : *addresses) {
    if (!list.empty()) list += ',';
    list += address.to_string();
  }
  return list;
}

std::optional<std::string> canonical_route_list(std::string_view text, std::string& error) {
  auto prefixes = wire::parse_prefix_list(text, error);
  if (!prefixes) return std::nullopt;
  std::string list;
  for (const auto& prefix : *prefixes) {
    if (!list.empty()) list += ',';
    list += prefix.network().to_string();
  }
  return list;
}

}  // namespace rtether::cli
