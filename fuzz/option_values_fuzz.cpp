// Fuzz target: the parsers behind command-line values (addresses, CIDR
// routes, DNS lists, relay addresses, --proxy URLs, --management's values
// split at spaces, a PWFILE's text, --metrics addresses). Every input
// either parses or yields a one-line error; a --proxy URL without
// credentials re-formats (its log form) to one with the same host and
// port; a parsed prefix re-formats to text that parses back to the same
// prefix; the canonical -d/-r lists sent to the Gnirehtet
// app hold no whitespace and are their own canonical form.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "cli/management_option.hpp"
#include "cli/metrics_option.hpp"
#include "cli/start_values.hpp"
#include "wire/ip_prefix.hpp"
#include "device/relay_link.hpp"
#include "relay/upstream_proxy.hpp"
#include "wire/ip_address.hpp"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace device = rtether::device;
  namespace wire = rtether::wire;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;

  auto prefix = wire::parse_prefix(text, error);
  require(prefix.has_value() || !error.empty());
  if (prefix) {
    std::string again_error;
    auto again = wire::parse_prefix(prefix->to_string(), again_error);
    require(again.has_value() && again->address == prefix->address && again->length == prefix->length);
  }
  error.clear();
  require(wire::parse_prefix_list(text, error).has_value() || !error.empty());
  error.clear();
  require(wire::parse_address_list(text, error).has_value() || !error.empty());
  error.clear();
  for (auto canonical : {rtether::cli::canonical_dns_list, rtether::cli::canonical_route_list}) {
    error.clear();
    auto list = canonical(text, error);
    require(list.has_value() || !error.empty());
    if (list) {
      require(list->find_first_of(" \t\r\n") == std::string::npos);
      std::string again_error;
      auto again = canonical(*list, again_error);
      require(again.has_value() && *again == *list);
    }
  }
  error.clear();
  auto relay = device::parse_relay_address(text, error);
  require(relay.has_value() || !error.empty());
  if (relay) require(!relay->to_string().empty());

  error.clear();
  std::vector<std::string> values;
  for (std::size_t at = 0; at <= text.size() && values.size() < 4;) {
    auto space = text.find(' ', at);
    if (space == std::string_view::npos) space = text.size();
    values.emplace_back(text.substr(at, space - at));
    at = space + 1;
  }
  auto management = rtether::cli::parse_management_option(values, error);
  require(management.has_value() != !error.empty());
  if (management && management->kind == rtether::cli::ManagementOption::Kind::Tcp) {
    require(management->port != 0);
  }
  error.clear();
  auto password = rtether::cli::password_from_file_text(text, error);
  require(password.has_value() != !error.empty());
  if (password) require(!password->empty() && password->find('\n') == std::string::npos);
  error.clear();
  auto metrics = rtether::cli::parse_metrics_address(std::string(text), error);
  require(metrics.has_value() || !error.empty());
  if (metrics) require(metrics->port != 0);

  error.clear();
  auto proxy = rtether::relay::parse_proxy_url(text, error);
  require(proxy.has_value() != !error.empty());
  if (proxy) {
    require(proxy->address.port != 0);
    // A host name is one the resolver can be asked: no '@', ':', '/' or '%'.
    require(proxy->host.size() <= 253 &&
            proxy->host.find_first_of("@:/%[] ") == std::string::npos);
    std::string again_error;
    auto again = rtether::relay::parse_proxy_url(proxy->to_string(), again_error);
    // The log form drops the password; without credentials it parses back.
    if (!proxy->credentials)
      require(again && again->host == proxy->host && again->address.port == proxy->address.port);
  }

  wire::IpAddress address;
  if (wire::IpAddress::parse(std::string(text), address)) {
    wire::IpAddress back;
    require(wire::IpAddress::parse(address.to_string(), back) && back == address);
  }
  return 0;
}
