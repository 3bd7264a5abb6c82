// The NEED-OK payloads that describe a tun, as typed values: formatted by
// the daemon (daemon/tun_plan.cpp), parsed by the UI (ui_session.cpp), in
// OpenVPN's layout (tun.c and route.c of the Android builds, recorded in
// tests/mgmt/data/): a payload parsed and formatted again is byte for byte
// the one sent.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "wire/ip_address.hpp"
#include "wire/ip_prefix.hpp"

namespace rtether::mgmt {

// IFCONFIG: "LOCAL REMOTE_OR_NETMASK MTU TOPOLOGY".
struct IfconfigPayload {
  wire::IpAddress local;
  wire::IpAddress remote_or_netmask;  // the peer (net30, p2p) or the netmask (subnet)
  int mtu = 0;
  std::string topology;  // "subnet", "net30", "p2p"; empty: not sent

  // The tun's address: LOCAL with the netmask's length in subnet topology;
  // with a peer in the same /30 (net30) or /31 (p2p) that prefix, as
  // ics-openvpn takes it; else alone (/32). nullopt: a subnet netmask that
  // is not contiguous.
  std::optional<wire::IpPrefix> address() const;
};

// IFCONFIG6: "ADDR/BITS MTU".
struct Ifconfig6Payload {
  wire::IpPrefix address;
  int mtu = 0;
};

// ROUTE: "NET NETMASK GATEWAY[ dev DEVICE]"; NET is kept as sent.
struct RoutePayload {
  wire::IpPrefix network;
  wire::IpAddress gateway;
  std::string device;  // empty: no "dev" part
};

// ROUTE6: "NET/BITS DEVICE" (OpenVPN writes "(null)" for no device).
struct Route6Payload {
  wire::IpPrefix network;
  std::string device;  // empty: not sent
};

std::string format_payload(const IfconfigPayload& payload);
std::string format_payload(const Ifconfig6Payload& payload);
std::string format_payload(const RoutePayload& payload);
std::string format_payload(const Route6Payload& payload);

// nullopt for a payload that is not in the layout above.
std::optional<IfconfigPayload> parse_ifconfig(std::string_view payload);
std::optional<Ifconfig6Payload> parse_ifconfig6(std::string_view payload);
std::optional<RoutePayload> parse_route(std::string_view payload);
std::optional<Route6Payload> parse_route6(std::string_view payload);
// DNSSERVER, DNS6SERVER: one address (formatted with IpAddress::to_string).
std::optional<wire::IpAddress> parse_dns_server(std::string_view payload);

// "255.255.255.0" <-> 24: IPv4 netmasks, contiguous ones only.
std::optional<int> netmask_length(const wire::IpAddress& netmask);
wire::IpAddress netmask_of(int length);

}  // namespace rtether::mgmt
