// io::EventLoop: one epoll loop per thread, timers, and deferred callbacks.
//
// Every registered fd carries a Handler pointer in epoll_data; the loop
// dispatches readiness to handler->on_ready(events) (the fd's kind is the
// handler's type). Handlers never block. Registration is edge-triggered
// unless asked otherwise: a handler reads/writes until EAGAIN (within its
// own budget) and remembers readiness it did not use.
//
// Timers are intrusive entries in a binary min-heap keyed by deadline: arm,
// re-arm and cancel are O(log n) with no allocation once the heap has grown.
// A handler that is destroyed must cancel its timers and remove its fds
// first (Timer's destructor cancels).
//
// Handlers may be destroyed from inside a callback only through defer():
// callbacks queued with defer() run after the current batch of events.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

namespace rtether::io {

using Clock = std::chrono::steady_clock;
using Time = Clock::time_point;

class Handler {
 public:
  virtual ~Handler() = default;
  // events: EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP/EPOLLRDHUP bits.
  virtual void on_ready(std::uint32_t events) = 0;
};

class EventLoop;

class Timer {
 public:
  Timer(EventLoop& loop, std::function<void()> callback);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void arm(Time deadline);  // replaces any earlier deadline
  void cancel();
  bool armed() const { return heap_index_ != kNotArmed; }
  Time deadline() const { return deadline_; }

 private:
  friend class EventLoop;
  static constexpr std::size_t kNotArmed = static_cast<std::size_t>(-1);
  EventLoop& loop_;
  std::function<void()> callback_;
  Time deadline_{};
  std::size_t heap_index_ = kNotArmed;
};

class EventLoop {
 public:
  EventLoop();  // throws std::system_error if epoll cannot be created
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // events: EPOLLIN/EPOLLOUT/...; EPOLLET is added unless level_triggered.
  void add(int fd, std::uint32_t events, Handler* handler, bool level_triggered = false);
  void modify(int fd, std::uint32_t events, Handler* handler, bool level_triggered = false);
  void remove(int fd);

  // Runs until stop(); returns after the current iteration.
  void run();
  void stop() { running_ = false; }
  // One iteration: waits at most `max_wait` (or until the next timer).
  void run_once(std::chrono::milliseconds max_wait);

  void defer(std::function<void()> callback);

  // Before each blocking wait, poll without blocking for up to this long
  // (yielding the CPU between polls). 0, the default, never spins.
  void set_busy_poll(std::chrono::microseconds duration) { busy_poll_ = duration; }

  // Cached at each wake-up; cheap to call per packet.
  Time now() const { return now_; }
  Time refresh_now();

 private:
  friend class Timer;
  void heap_insert(Timer* timer);
  void heap_remove(Timer* timer);
  void heap_sift_up(std::size_t index);
  void heap_sift_down(std::size_t index);
  void run_timers();
  void run_deferred();

  int epoll_fd_ = -1;
  bool running_ = false;
  std::chrono::microseconds busy_poll_{0};
  Time now_;
  std::vector<Timer*> heap_;
  std::vector<std::function<void()>> deferred_;
  std::vector<std::function<void()>> running_deferred_;
};

}  // namespace rtether::io
