// --outbound-address [ID=]ADDR and --outbound-interface [ID=]IFACE
// (repeatable) of `relay`, `run` and `autorun`: where host sockets leave
// from (io/outbound.hpp), for every client, or for the client with relay id
// ID (the id the relay logs as "client ID connected", from 0 in connection
// order). `run` and `autorun`, whose relay knows each client's adb serial
// (relay/relay.hpp), also take SERIAL=VALUE: every client of that device,
// reconnections included. A scope of digits only is a client id, anything
// else a serial. Each scope takes at most one IPv4 address, one IPv6
// address and one interface; a client's or device's values replace those
// of every client, the others still apply to it (a client id's entry wins
// over its serial's).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/outbound.hpp"

namespace rtether::cli {

struct OutboundValues {
  std::vector<std::string> addresses;   // [ID=]ADDR
  std::vector<std::string> interfaces;  // [ID=]IFACE
};

struct OutboundSettings {
  io::Outbound all;
  std::map<std::uint32_t, io::Outbound> per_client;
  std::map<std::string, io::Outbound> per_serial;
};

// Whether a scope may name an adb serial (run, autorun) or only a client
// id (relay, which knows no serials).
enum class OutboundScopes { ClientIds, ClientIdsAndSerials };

// The syntax of one value (for the option's validator): empty when good.
std::string check_outbound_address(const std::string& text,
                                   OutboundScopes scopes = OutboundScopes::ClientIds);
std::string check_outbound_interface(const std::string& text,
                                     OutboundScopes scopes = OutboundScopes::ClientIds);

// All values together; false with a one-line `error` (two IPv4 addresses
// for one scope, ...).
bool build_outbound(const OutboundValues& values, OutboundSettings& settings, std::string& error,
                    OutboundScopes scopes = OutboundScopes::ClientIds);

// Start-up: every setting is tried on a probe socket (io::check_outbound);
// empty, or the error line naming the option, the value and the cause
// (CAP_NET_RAW for an interface).
std::string probe_outbound(const OutboundSettings& settings);

}  // namespace rtether::cli
