// Poller: the OS backend of the EventLoop, the only part of the loop that
// knows how readiness is watched (epoll on Linux, in linux/epoll_poller.cpp;
// WSAPoll on Windows, in windows/wsapoll_poller.cpp).
// It registers fds with their Interest and Trigger, waits, and reports
// which handlers are ready with OS-neutral Readiness. A backend that is
// only level-triggered (WSAPoll) keeps the Edge contract by reporting a
// direction once and watching it again only after the handler's io call in
// that direction would block (or moved less than asked).
#pragma once

#include <chrono>
#include <memory>
#include <span>

#include "io/readiness.hpp"

namespace rtether::io {

class Handler {
 public:
  virtual ~Handler() = default;
  virtual void on_ready(Readiness readiness) = 0;
};

struct ReadyHandler {
  Handler* handler = nullptr;
  Readiness readiness;
};

class Poller {
 public:
  virtual ~Poller() = default;

  // Throw std::system_error: a failure is a bug or exhaustion, not an event.
  virtual void add(int fd, Interest interest, Trigger trigger, Handler* handler) = 0;
  virtual void modify(int fd, Interest interest, Trigger trigger, Handler* handler) = 0;
  virtual void remove(int fd) = 0;

  // Waits up to `timeout` (0: only looks) and returns the ready handlers,
  // valid until the next call. An interrupted wait returns none.
  virtual std::span<const ReadyHandler> wait(std::chrono::milliseconds timeout) = 0;
  // Thread-safe, the one call another thread may make: ends the current or
  // the next wait() early (it returns what is ready, possibly nothing).
  virtual void wake() = 0;
};

// The platform's backend (epoll on Linux, WSAPoll on Windows). Throws
// std::system_error.
std::unique_ptr<Poller> make_poller();

}  // namespace rtether::io
