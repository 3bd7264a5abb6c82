// Host names to addresses with the host's own resolver (getaddrinfo: on
// Linux /etc/hosts, DNS and whatever nsswitch.conf names; on Windows the
// system's resolver). It blocks, so it runs at start-up only (cli: a
// --proxy given by name), never from the event loop.
#pragma once

#include <string>
#include <vector>

#include "wire/ip_address.hpp"

namespace rtether::io {

// The IPv4 and IPv6 addresses of `name` in the resolver's order of
// preference (RFC 6724), each once; empty, and the resolver's words in
// `error`, when it has none.
std::vector<wire::IpAddress> resolve_host_name(const std::string& name, std::string& error);

}  // namespace rtether::io
