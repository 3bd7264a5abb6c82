// Socket addresses, built and read in one place: Endpoint <-> sockaddr_in /
// sockaddr_in6, a UNIX path ('@' first = abstract) -> sockaddr_un, and the
// address family and socket type for an Endpoint and Transport. Internal to
// io/ (and device/, which also makes OS calls); other layers use Endpoint.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <optional>
#include <string>

#include "io/socket.hpp"

namespace rtether::io {

int address_family(wire::IpVersion version);
int socket_type(Transport transport);

// Fills `storage` with the sockaddr_in/sockaddr_in6 for `endpoint` and
// returns its length.
socklen_t to_sockaddr(const Endpoint& endpoint, sockaddr_storage& storage);
// The endpoint of an AF_INET or AF_INET6 address, nullopt for another family.
std::optional<Endpoint> from_sockaddr(const sockaddr_storage& storage);
// The sockaddr_un for `path` and its length (an abstract name is counted
// exactly, with no trailing NUL); nullopt when the path is empty or too long.
std::optional<socklen_t> to_sockaddr_un(const std::string& path, sockaddr_un& address);

}  // namespace rtether::io
