// Which relay sockets the daemon asks the UI to protect (PROTECTFD, as
// Android's VpnService.protect): only a TCP socket to an address off this
// machine. A UNIX socket or a loopback address cannot be caught by the
// tun's routes, so asking would only cost the UI a round trip. The same
// answer says whether a network-change must re-protect the link.
#pragma once

#include <optional>

#include "wire/ip_address.hpp"

namespace rtether::daemon {

// `destination`: the address the socket connects to; nullopt for UNIX.
bool needs_protection(const std::optional<wire::IpAddress>& destination);

}  // namespace rtether::daemon
