// --outbound-address / --outbound-interface; see outbound_options.hpp.
#include "cli/outbound_options.hpp"

#include <fmt/core.h>

#include <charconv>
#include <optional>

namespace rtether::cli {

namespace {

struct Scoped {
  std::optional<std::uint32_t> client;
  std::string value;
};

// "ID=VALUE" or "VALUE"; nullopt when ID is not a client id.
std::optional<Scoped> split_scope(const std::string& text) {
  auto equals = text.find('=');
  if (equals == std::string::npos) return Scoped{std::nullopt, text};
  std::uint32_t id = 0;
  const char* begin = text.data();
  auto [end, error] = std::from_chars(begin, begin + equals, id);
  if (equals == 0 || error != std::errc{} || end != begin + equals) return std::nullopt;
  return Scoped{id, text.substr(equals + 1)};
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

std::string check_outbound_address(const std::string& text) {
  auto scoped = split_scope(text);
  wire::IpAddress address;
  if (!scoped || !wire::IpAddress::parse(scoped->value, address))
    return fmt::format("'{}' is not [ID=]ADDR (an IPv4 or IPv6 address, ID a client id)", text);
  return {};
}

std::string check_outbound_interface(const std::string& text) {
  auto scoped = split_scope(text);
  // Linux names are at most 15 bytes (IFNAMSIZ - 1); Windows' are longer.
  if (!scoped || scoped->value.empty() || scoped->value.size() > 255 ||
      scoped->value.find_first_of("/ \t") != std::string::npos)
    return fmt::format("'{}' is not [ID=]IFACE (an interface name, ID a client id)", text);
  return {};
}

bool build_outbound(const OutboundValues& values, OutboundSettings& settings, std::string& error) {
  settings = {};
  // Values per scope first; clients then start from the relay-wide ones.
  std::map<std::uint32_t, io::Outbound> named;
  auto scope_of = [&](const Scoped& scoped) -> io::Outbound& {
    return scoped.client ? named[*scoped.client] : settings.all;
  };
  auto label = [](const Scoped& scoped) {
    return scoped.client ? fmt::format("client {}", *scoped.client) : std::string("all clients");
  };
  for (const auto& text : values.addresses) {
    auto scoped = split_scope(text);
    wire::IpAddress address;
    if (!scoped || !wire::IpAddress::parse(scoped->value, address)) {
      error = "--outbound-address " + check_outbound_address(text);
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
    auto scoped = split_scope(text);
    if (!scoped || !check_outbound_interface(text).empty()) {
      error = "--outbound-interface " + check_outbound_interface(text);
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
  for (const auto& [client, own] : named) {
    io::Outbound merged = settings.all;
    if (own.address_v4) merged.address_v4 = own.address_v4;
    if (own.address_v6) merged.address_v6 = own.address_v6;
    if (!own.interface_name.empty()) merged.interface_name = own.interface_name;
    settings.per_client.emplace(client, merged);
  }
  return true;
}

std::string probe_outbound(const OutboundSettings& settings) {
  if (auto failure = io::check_outbound(settings.all)) return describe(*failure, settings.all);
  for (const auto& [client, outbound] : settings.per_client)
    if (auto failure = io::check_outbound(outbound))
      return fmt::format("client {}: {}", client, describe(*failure, outbound));
  return {};
}

}  // namespace rtether::cli
