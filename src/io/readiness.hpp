// What a handler asks the loop to watch (Interest, Trigger) and what the
// loop tells it (Readiness): plain values, so that handlers never see a
// backend's bits (EPOLL*, POLL*, EVFILT_*).
#pragma once

#include <cstdint>

namespace rtether::io {

// Directions a handler wants to hear about. Errors and hang-ups are always
// reported, whatever the interest.
enum class Interest : std::uint8_t {
  Read = 1,   // data (or end of stream, or a pending error) can be read
  Write = 2,  // the send buffer has room again (or a connect finished)
  ReadWrite = Read | Write,
};

constexpr bool wants(Interest interest, Interest direction) {
  return (static_cast<std::uint8_t>(interest) & static_cast<std::uint8_t>(direction)) != 0;
}

// Edge: readiness is reported once per change; the handler reads or writes
// until the operation would block (within its own budget) and remembers
// readiness it did not use. Level: reported on every wait while it holds
// (listeners, signalfd, where one read per wake-up is the natural unit).
enum class Trigger : std::uint8_t { Edge, Level };

struct Readiness {
  bool readable = false;
  bool writable = false;
  bool error = false;        // a socket error is pending (SO_ERROR or the error queue)
  bool hangup = false;       // both directions are finished
  bool peer_closed = false;  // the peer shut down its write side: no more data will come

  // Something for a reader to find: data, end of stream, or an error.
  bool readable_or_closed() const { return readable || peer_closed || hangup || error; }
  // The peer will send nothing more.
  bool peer_done() const { return peer_closed || hangup; }
};

}  // namespace rtether::io
