// SignalWatcher: delivers SIGINT/SIGTERM (or any set) through the event loop
// with signalfd, so shutdown runs as an ordinary handler, never inside an
// async signal context. The signals are blocked for the calling thread.
#pragma once

#include <functional>
#include <initializer_list>

#include "io/event_loop.hpp"
#include "io/socket.hpp"

namespace rtether::io {

// Blocks `signals` for the calling thread (threads it starts later inherit
// the mask) and returns a non-blocking signalfd that becomes readable when
// one arrives. Throws std::system_error on failure (start-up only).
Fd block_into_signal_fd(std::initializer_list<int> signals);

class SignalWatcher : public Handler {
 public:
  SignalWatcher(EventLoop& loop, std::initializer_list<int> signals,
                std::function<void(int signal)> callback);
  ~SignalWatcher() override;
  void on_ready(Readiness readiness) override;
  // The signalfd: readable while a watched signal is pending (a blocking
  // call made outside the loop may poll it to stop early).
  int fd() const { return fd_.get(); }

 private:
  EventLoop& loop_;
  Fd fd_;
  std::function<void(int)> callback_;
};

}  // namespace rtether::io
