// NEED-OK tun payloads; see tun_payloads.hpp.
#include "mgmt/tun_payloads.hpp"

#include <bit>
#include <charconv>
#include <cstdint>
#include <vector>

#include <fmt/core.h>

namespace rtether::mgmt {
namespace {

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::optional<wire::IpAddress> address_of(const std::string& text, wire::IpVersion version) {
  wire::IpAddress address;
  if (!wire::IpAddress::parse(text, address) || address.version != version) return std::nullopt;
  return address;
}

// "NET/BITS": the slash is required (OpenVPN always sends it).
std::optional<wire::IpPrefix> prefix_of(const std::string& text) {
  if (text.find('/') == std::string::npos) return std::nullopt;
  std::string error;
  return wire::parse_prefix(text, error);
}

std::optional<int> mtu_of(const std::string& text) {
  int mtu = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), mtu);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return mtu;
}

}  // namespace

std::optional<int> netmask_length(const wire::IpAddress& netmask) {
  if (netmask.version != wire::IpVersion::V4) return std::nullopt;
  std::uint32_t bits = netmask.v4_host_order();
  int length = std::popcount(bits);
  // Contiguous: the set bits are exactly the top `length` ones.
  std::uint32_t expected = length == 0 ? 0 : 0xffffffffu << (32 - length);
  if (bits != expected) return std::nullopt;
  return length;
}

wire::IpAddress netmask_of(int length) {
  return wire::IpAddress::v4(length == 0 ? 0 : 0xffffffffu << (32 - length));
}

std::optional<wire::IpPrefix> IfconfigPayload::address() const {
  if (topology != "subnet") {
    // ics-openvpn (OpenVPNService.setLocalIP): the peer's /30 (net30) or /31
    // (p2p) when the peer is in it, else the address alone.
    int length = topology == "net30" ? 30 : 31;
    std::uint32_t mask = 0xffffffffu << (32 - length);
    bool same = (local.v4_host_order() & mask) == (remote_or_netmask.v4_host_order() & mask);
    return wire::IpPrefix{local, same ? length : 32};
  }
  auto length = netmask_length(remote_or_netmask);
  if (!length) return std::nullopt;
  return wire::IpPrefix{local, *length};
}

std::string format_payload(const IfconfigPayload& payload) {
  std::string text = fmt::format("{} {} {}", payload.local.to_string(),
                                 payload.remote_or_netmask.to_string(), payload.mtu);
  if (!payload.topology.empty()) text += " " + payload.topology;
  return text;
}

std::string format_payload(const Ifconfig6Payload& payload) {
  return fmt::format("{} {}", payload.address.to_string(), payload.mtu);
}

std::string format_payload(const RoutePayload& payload) {
  std::string text = fmt::format("{} {} {}", payload.network.address.to_string(),
                                 netmask_of(payload.network.length).to_string(),
                                 payload.gateway.to_string());
  if (!payload.device.empty()) text += " dev " + payload.device;
  return text;
}

std::string format_payload(const Route6Payload& payload) {
  std::string text = payload.network.to_string();
  if (!payload.device.empty()) text += " " + payload.device;
  return text;
}

std::optional<IfconfigPayload> parse_ifconfig(std::string_view text) {
  auto parts = words(text);
  if (parts.size() != 3 && parts.size() != 4) return std::nullopt;
  auto local = address_of(parts[0], wire::IpVersion::V4);
  auto other = address_of(parts[1], wire::IpVersion::V4);
  auto mtu = mtu_of(parts[2]);
  if (!local || !other || !mtu) return std::nullopt;
  return IfconfigPayload{*local, *other, *mtu, parts.size() == 4 ? parts[3] : ""};
}

std::optional<Ifconfig6Payload> parse_ifconfig6(std::string_view text) {
  auto parts = words(text);
  if (parts.size() != 2) return std::nullopt;
  auto address = prefix_of(parts[0]);
  auto mtu = mtu_of(parts[1]);
  if (!address || address->address.version != wire::IpVersion::V6 || !mtu) return std::nullopt;
  return Ifconfig6Payload{*address, *mtu};
}

std::optional<RoutePayload> parse_route(std::string_view text) {
  auto parts = words(text);
  bool with_device = parts.size() == 5 && parts[3] == "dev";
  if (parts.size() != 3 && !with_device) return std::nullopt;
  auto network = address_of(parts[0], wire::IpVersion::V4);
  auto mask = address_of(parts[1], wire::IpVersion::V4);
  auto length = mask ? netmask_length(*mask) : std::nullopt;
  auto gateway = address_of(parts[2], wire::IpVersion::V4);
  if (!network || !length || !gateway) return std::nullopt;
  return RoutePayload{{*network, *length}, *gateway, with_device ? parts[4] : ""};
}

std::optional<Route6Payload> parse_route6(std::string_view text) {
  auto parts = words(text);
  if (parts.empty() || parts.size() > 2) return std::nullopt;
  auto network = prefix_of(parts[0]);
  if (!network) return std::nullopt;
  return Route6Payload{*network, parts.size() == 2 ? parts[1] : ""};
}

std::optional<wire::IpAddress> parse_dns_server(std::string_view text) {
  auto parts = words(text);
  wire::IpAddress server;
  if (parts.size() != 1 || !wire::IpAddress::parse(parts[0], server)) return std::nullopt;
  return server;
}

}  // namespace rtether::mgmt
