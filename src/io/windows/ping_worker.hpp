// Ping without admin rights on Windows, shaped as a Linux ping socket for
// relay/: Windows has no unprivileged ICMP socket, but IP Helper's
// IcmpSendEcho2 / Icmp6SendEcho2 send an echo and wait for its reply as any
// user. open_emulated_ping hands the relay one end of a connected loopback
// UDP pair; a worker thread holds the other, takes each echo request the
// relay sends (an ICMP message, as to a ping socket), asks IP Helper, and
// sends back the echo reply's ICMP message. Requests of one socket go out
// one at a time. Echoes without a reply (timeout, unreachable) get no
// answer, as the device would see with no ICMP error. Internal to
// io/windows/.
#pragma once

#include <cstddef>

#include "io/socket.hpp"

namespace rtether::io {

// How long a worker waits for one reply (Windows ping's default).
inline constexpr unsigned kEchoTimeoutMs = 4000;

// The relay's end, non-blocking. Errors: permission_denied when IP Helper
// gives no ICMP handle for the family (Wine has none for IPv6: the relay
// answers "administratively prohibited"), operation_not_permitted for the
// broadcast address, as a Linux ping socket.
Result<Fd> open_emulated_ping(const Endpoint& to);

// Tells the worker of the relay end `fd` to stop; it ends within its wait
// (100 ms) or the echo under way. Nothing when fd has no worker.
void stop_ping_worker(int fd);

// Workers whose thread still runs (for tests).
std::size_t running_ping_workers();

}  // namespace rtether::io
