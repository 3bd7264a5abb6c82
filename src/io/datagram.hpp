// UDP sockets for port forwarding: a listening socket bound to the forward's
// host port, and one socket per host peer bound to the same port and
// connected to that peer (SO_REUSEPORT, so only sockets of the relay's own
// effective uid can share the port; the kernel delivers a peer's datagrams
// to the connected socket, which matches more of the 4-tuple, and
// everything else to the unconnected listener).
#pragma once

#include <utility>

#include "io/socket.hpp"

namespace rtether::io {

// Bound, non-blocking; throws std::system_error naming the address.
Fd bind_udp(const Endpoint& at);
// Bound to `local` (shared with the listener), connected to `peer`: fd and 0,
// or an invalid fd and -errno.
std::pair<Fd, int> open_udp_peer(const Endpoint& local, const Endpoint& peer);
// recvfrom: bytes and the sender, or -errno (-EAGAIN when empty).
long recv_from(int fd, wire::MutableBytes into, Endpoint& peer);

}  // namespace rtether::io
