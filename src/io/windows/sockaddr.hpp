// Socket addresses on Windows, as io/linux/sockaddr.hpp: Endpoint <->
// sockaddr_in / sockaddr_in6, a UNIX path -> sockaddr_un (afunix.h; Windows
// has no abstract names), and the address family and socket type for an
// Endpoint and Transport. Internal to io/windows/.
#pragma once

#include "io/windows/winsock.hpp"

#include <afunix.h>

#include <optional>
#include <string>

#include "io/socket.hpp"

namespace rtether::io {

int address_family(wire::IpVersion version);
int socket_type(Transport transport);

// Fills `storage` with the sockaddr_in/sockaddr_in6 for `endpoint` and
// returns its length.
int to_sockaddr(const Endpoint& endpoint, sockaddr_storage& storage);
// The endpoint of an AF_INET or AF_INET6 address, nullopt for another family.
std::optional<Endpoint> from_sockaddr(const sockaddr_storage& storage);
// The sockaddr_un for `path` and its length; nullopt when the path is
// empty, too long or abstract ('@' first).
std::optional<int> to_sockaddr_un(const std::string& path, sockaddr_un& address);

}  // namespace rtether::io
