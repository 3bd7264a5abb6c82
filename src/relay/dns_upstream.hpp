// DNS upstreams: the host resolvers the relay's DNS forwarder asks, in
// failover order, from `--dns-upstream ADDR[:PORT][,ADDR[:PORT]...]` (IPv6
// in brackets: [2001:db8::53]:5353; the port defaults to 53) or from the
// host's own list (io/dns_servers.hpp, port 53).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "io/socket.hpp"

namespace rtether::relay {

std::optional<std::vector<io::Endpoint>> parse_dns_upstreams(const std::string& text,
                                                             std::string& error);
std::vector<io::Endpoint> dns_upstreams_from(const std::vector<wire::IpAddress>& servers);
std::string to_string(const io::Endpoint& upstream);  // "192.0.2.53:53", "[::1]:53"

}  // namespace rtether::relay
