// SignalWatcher: delivers SIGINT/SIGTERM (or any set) through the event loop,
// so shutdown runs as an ordinary handler, never inside an async signal
// context.
//
// Linux: the signals are blocked for the calling thread and read from a
// signalfd.
// Windows: console control events (SetConsoleCtrlHandler) stand for the
// signals: Ctrl+C is SIGINT; Ctrl+Break, closing the console window, log
// off and shut down are SIGTERM. The handler, on a thread of the system's,
// writes the signal number to a loopback socket pair whose reading end is
// the watcher's fd. For a close, log off or shut down the system ends the
// process once the handler returns ("HandlerRoutine callback function" in
// Microsoft's docs), so the handler waits kShutdownGrace, during which
// rtether shuts down as for SIGTERM and exits by itself. One watcher at a
// time.
#pragma once

#include <chrono>
#include <functional>
#include <initializer_list>

#include "io/event_loop.hpp"
#include "io/socket.hpp"

namespace rtether::io {

// Linux: blocks `signals` for the calling thread (threads it starts later
// inherit the mask) and returns a non-blocking signalfd that becomes
// readable when one arrives. Throws std::system_error on failure (start-up
// only).
Fd block_into_signal_fd(std::initializer_list<int> signals);

class SignalWatcher : public Handler {
 public:
  // Windows: below the 5 s the system gives a console being closed.
  static constexpr auto kShutdownGrace = std::chrono::seconds(4);

  SignalWatcher(EventLoop& loop, std::initializer_list<int> signals,
                std::function<void(int signal)> callback);
  ~SignalWatcher() override;
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;
  void on_ready(Readiness readiness) override;
  // Readable while a watched signal is pending (a blocking call made
  // outside the loop may poll it to stop early: run_process's cancel_fd).
  int fd() const { return fd_.get(); }
  // For a shutdown that takes a while: drops the signals pending here and
  // lets the next SIGINT (Ctrl+C) take its default action, ending rtether
  // at once, instead of reaching the loop.
  void pass_next_interrupt();

 private:
  EventLoop& loop_;
  Fd fd_;
  std::function<void(int)> callback_;
};

}  // namespace rtether::io
