// SignalWatcher: delivers SIGINT/SIGTERM (or any set) through the event loop
// with signalfd, so shutdown runs as an ordinary handler, never inside an
// async signal context. The signals are blocked for the calling thread.
#pragma once

#include <functional>
#include <initializer_list>

#include "io/event_loop.hpp"
#include "io/socket.hpp"

namespace rtether::io {

class SignalWatcher : public Handler {
 public:
  SignalWatcher(EventLoop& loop, std::initializer_list<int> signals,
                std::function<void(int signal)> callback);
  ~SignalWatcher() override;
  void on_ready(std::uint32_t events) override;

 private:
  EventLoop& loop_;
  Fd fd_;
  std::function<void(int)> callback_;
};

}  // namespace rtether::io
