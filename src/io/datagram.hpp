// UDP sockets for port forwarding: a listening socket bound to the forward's
// host port, and one socket per host peer bound to the same port and
// connected to that peer (SO_REUSEPORT, so only sockets of the relay's own
// effective uid can share the port; the kernel delivers a peer's datagrams
// to the connected socket, which matches more of the 4-tuple, and
// everything else to the unconnected listener).
#pragma once

#include "io/socket.hpp"

namespace rtether::io {

// Bound, non-blocking; throws std::system_error naming the address.
Fd bind_udp(const Endpoint& at);
// Bound to `local` (shared with the listener), connected to `peer`.
Result<Fd> open_udp_peer(const Endpoint& local, const Endpoint& peer);

// One datagram and its sender.
struct Datagram {
  std::size_t size = 0;
  Endpoint from;
};
// recvfrom; would_block() when none is queued.
Result<Datagram> recv_from(int fd, wire::MutableBytes into);

}  // namespace rtether::io
