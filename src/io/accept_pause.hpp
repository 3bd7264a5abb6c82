// AcceptPause: accepts from a level-triggered listening socket without
// spinning when accept fails.
//
// When accept fails for want of fds or memory (EMFILE, ENFILE, ENOMEM,
// ENOBUFS) the connection stays queued and the socket stays readable: a
// level-triggered listener would wake again at once, forever, logging each
// time. AcceptPause then takes the socket out of the loop for kAcceptPause,
// logs only the first failure of a streak, and on resume re-adds it and
// tries what is queued at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <system_error>

#include "io/event_loop.hpp"
#include "io/socket.hpp"

namespace rtether::io {

inline constexpr std::chrono::milliseconds kAcceptPause{100};

class AcceptPause {
 public:
  using Accepted = std::function<void(Fd)>;

  // `label` starts the log lines ("metrics", "control", ...); `accepted`
  // gets each new connection.
  AcceptPause(EventLoop& loop, std::string label, Accepted accepted);
  ~AcceptPause() { stop(); }
  AcceptPause(const AcceptPause&) = delete;
  AcceptPause& operator=(const AcceptPause&) = delete;

  // Registers the listening `fd` (read, level-triggered) for `handler`, whose
  // on_ready calls accept(). The fd must outlive this object or stop().
  void watch(int fd, Handler* handler);
  // Accepts what is queued; on failure pauses as above.
  void accept();
  // Out of the loop for good (before the fd closes); a pending resume is
  // cancelled. Does nothing when not watching.
  void stop();

  bool paused() const { return resume_timer_.armed(); }
  std::uint64_t failed_tries() const { return failed_tries_; }  // in the current streak

 private:
  void pause_after(const std::error_code& error);
  void resume();

  EventLoop& loop_;
  std::string label_;
  Accepted accepted_;
  Timer resume_timer_;
  int fd_ = -1;
  Handler* handler_ = nullptr;
  bool watching_ = false;  // registered with the loop (not paused, not stopped)
  std::uint64_t failed_tries_ = 0;
};

}  // namespace rtether::io
