// --outbound-address / --outbound-interface; see outbound_options.hpp.
#include "cli/outbound_options.hpp"

#include <fmt/core.h>

#include <charconv>
#include <optional>
#include <string_view>

#include "relay/forward_rule.hpp"

namespace rtether::cli {

namespace {

struct Scoped {
  std::optional<std::uint32_t> client;
  std::string serial;  // empty: not a device's
  std::string value;
};

// "ID=VALUE", "SERIAL=VALUE" (when serials are allowed) or "VALUE";
// nullopt when the scope is neither.
std::optional<Scoped> split_scope(const std::string& text, OutboundScopes scopes) {
  auto equals = text.find('=');
  if (equals == std::string::npos) return Scoped{std::nullopt, {}, text};
  std::string_view scope(text.data(), equals);
  if (scopes == OutboundScopes::ClientIdsAndSerials && relay::is_serial_text(scope))
    return Scoped{std::nullopt, std::string(scope), text.substr(equals + 1)};
  std::uint32_t id = 0;
  auto [end, error] = std::from_chars(scope.data(), scope.data() + scope.size(), id);
  if (scope.empty() || error != std::errc{} || end != scope.data() + scope.size())
    return std::nullopt;
  return Scoped{id, {}, text.substr(equals + 1)};
}

const char* scope_syntax(OutboundScopes scopes) {
  return scopes == OutboundScopes::ClientIdsAndSerials ? "ID or SERIAL a client id or adb serial"
                                                       : "ID a client id";
}

std::string describe(const io::OutboundError& failure, const io::Outbound& outbound) {
  if (failure.step == io::OutboundError::Step::Interface) {
    const std::string& name = outbound.interface_name;
    if (failure.error == std::errc::operation_not_permitted)
      return fmt::format("--outbound-interface {}: binding sockets to an interface "
                         "(SO_BINDTODEVICE) was refused: it needs CAP_NET_RAW (on Linux before "
                         "5.7 always): run the relay as root or setcap cap_net_raw+ep on it",
                         name);
    if (failure.error == std::errc::no_such_device)
      return fmt::format("--outbound-interface {}: no such interface", name);
    return fmt::format("--outbound-interface {}: {}", name, failure.error.message());
  }
  std::string addresses;
  for (const auto& address : {outbound.address_v4, outbound.address_v6})
    if (address) addresses += (addresses.empty() ? "" : ", ") + address->to_string();
  if (failure.error == std::errc::address_not_available)
    return fmt::format("--outbound-address {}: not an address of this host{}", addresses,
                       outbound.interface_name.empty()
                           ? ""
                           : " (or not on --outbound-interface " + outbound.interface_name + ")");
  return fmt::format("--outbound-address {}: {}", addresses, failure.error.message());
}

}  // namespace

std::string check_outbound_address(const std::string& text, OutboundScopes scopes) {
  auto scoped = split_scope(text, scopes);
  wire::IpAddress address;
  if (!scoped || !wire::IpAddress::parse(scoped->value, address))
    return fmt::format("'{}' is not [{}=]ADDR (an IPv4 or IPv6 address, {})", text,
                       scopes == OutboundScopes::ClientIdsAndSerials ? "ID|SERIAL" : "ID",
                       scope_syntax(scopes));
  return {};
}

std::string check_outbound_interface(const std::string& text, OutboundScopes scopes) {
  auto scoped = split_scope(text, scopes);
  // Linux names are at most 15 bytes (IFNAMSIZ - 1); Windows' are longer.
  if (!scoped || scoped->value.empty() || scoped->value.size() > 255 ||
      scoped->value.find_first_of("/ \t") != std::string::npos)
    return fmt::format("'{}' is not [{}=]IFACE (an interface name, {})", text,
                       scopes == OutboundScopes::ClientIdsAndSerials ? "ID|SERIAL" : "ID",
                       scope_syntax(scopes));
  return {};
}

bool build_outbound(const OutboundValues& values, OutboundSettings& settings, std::string& error,
                    OutboundScopes scopes) {
  settings = {};
  // Values per scope first; clients and devices then start from the
  // relay-wide ones.
  std::map<std::uint32_t, io::Outbound> named;
  std::map<std::string, io::Outbound> devices;
  auto scope_of = [&](const Scoped& scoped) -> io::Outbound& {
    if (scoped.client) return named[*scoped.client];
    return scoped.serial.empty() ? settings.all : devices[scoped.serial];
  };
  auto label = [](const Scoped& scoped) {
    if (scoped.client) return fmt::format("client {}", *scoped.client);
    return scoped.serial.empty() ? std::string("all clients") : "device " + scoped.serial;
  };
  for (const auto& text : values.addresses) {
    auto scoped = split_scope(text, scopes);
    wire::IpAddress address;
    if (!scoped || !wire::IpAddress::parse(scoped->value, address)) {
      error = "--outbound-address " + check_outbound_address(text, scopes);
      return false;
    }
    auto& slot = address.version == wire::IpVersion::V4 ? scope_of(*scoped).address_v4
                                                        : scope_of(*scoped).address_v6;
    if (slot) {
      error = fmt::format("--outbound-address: two IPv{} addresses for {} ({} and {})",
                          address.version == wire::IpVersion::V4 ? 4 : 6, label(*scoped),
                          slot->to_string(), address.to_string());
      return false;
    }
    slot = address;
  }
  for (const auto& text : values.interfaces) {
    auto scoped = split_scope(text, scopes);
    if (!scoped || !check_outbound_interface(text, scopes).empty()) {
      error = "--outbound-interface " + check_outbound_interface(text, scopes);
      return false;
    }
    auto& slot = scope_of(*scoped).interface_name;
    if (!slot.empty()) {
      error = fmt::format("--outbound-interface: two interfaces for {} ({} and {})",
                          label(*scoped), slot, scoped->value);
      return false;
    }
    slot = scoped->value;
  }
  auto merged = [&](const io::Outbound& own) {
    io::Outbound result = settings.all;
    if (own.address_v4) result.address_v4 = own.address_v4;
    if (own.address_v6) result.address_v6 = own.address_v6;
    if (!own.interface_name.empty()) result.interface_name = own.interface_name;
    return result;
  };
  for (const auto& [client, own] : named) settings.per_client.emplace(client, merged(own));
  for (const auto& [serial, own] : devices) settings.per_serial.emplace(serial, merged(own));
  return true;
}

std::string probe_outbound(const OutboundSettings& settings) {
  if (auto failure = io::check_outbound(settings.all)) return describe(*failure, settings.all);
  for (const auto& [client, outbound] : settings.per_client)
    if (auto failure = io::check_outbound(outbound))
      return fmt::format("client {}: {}", client, describe(*failure, outbound));
  for (const auto& [serial, outbound] : settings.per_serial)
    if (auto failure = io::check_outbound(outbound))
      return fmt::format("device {}: {}", serial, describe(*failure, outbound));
  return {};
}

}  // namespace rtether::cli
