// How the WSAPoll backend keeps the Edge contract of poller.hpp: WSAPoll is
// level-triggered only, so for an Edge registration the poller reports a
// direction once and then leaves it out of its wait until an io call of that
// direction, made on the poller's thread, would block or moved less than
// asked (relay/ handlers take a short read or write as "drained", which an
// epoll edge makes true: new data or room brings a new edge). A peek leaves
// its bytes queued, so after a short peek the poller watches for more bytes
// than were queued (FIONREAD) instead of for readability. The socket
// functions of io/windows/ call these; internal to io/windows/.
#pragma once

#include <cstddef>

#include "io/readiness.hpp"

namespace rtether::io {

// After a call in `direction` that would block or moved less than asked:
// tells the poller of the calling thread that watches `fd` to watch
// `direction` again. Nothing happens when no poller of this thread watches
// fd (a test's own socket, a call from another thread).
void rearm_after_io(int fd, Interest direction);
// After a peek that saw all `queued` bytes: report Read again once more
// than that many wait.
void rearm_after_peek(int fd, std::size_t queued);
// Whether the poller of this thread that watches fd saw POLLERR with
// POLLHUP on it: the peer reset the connection. Wine 8 then has recv return
// 0 and SO_ERROR 0 (Windows says WSAECONNRESET), so the socket functions
// ask before they report an end of stream.
bool reset_seen(int fd);
// After `bytes` were taken from the receive queue without a wake-up being
// due (discard): a watched peek count shrinks by as many.
void note_consumed(int fd, std::size_t bytes);

}  // namespace rtether::io
