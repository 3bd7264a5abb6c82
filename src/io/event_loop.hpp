// io::EventLoop: one loop per thread, timers, and deferred callbacks. The
// OS part, watching fds, is the Poller backend (poller.hpp); everything
// here is portable.
//
// Every registered fd carries a Handler; the loop dispatches readiness to
// handler->on_ready(readiness) (the fd's kind is the handler's type).
// Handlers never block. Each registration names its Interest and Trigger:
// edge-triggered handlers read/write until the call would block (within
// their own budget) and remember readiness they did not use.
//
// Timers are intrusive entries in a binary min-heap keyed by deadline: arm,
// re-arm and cancel are O(log n) with no allocation once the heap has grown.
// A handler that is destroyed must cancel its timers and remove its fds
// first (Timer's destructor cancels).
//
// Handlers may be destroyed from inside a callback only through defer():
// callbacks queued with defer() run after the current batch of events.
//
// Threads: a loop and everything registered with it belong to the one
// thread that runs it. post() is the only member another thread may call:
// it queues a callback for the loop's thread and wakes its wait (the
// Poller's wake()); posted callbacks run in order, after the batch of
// events that was being handled.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "io/clock.hpp"
#include "io/poller.hpp"
#include "io/readiness.hpp"

namespace rtether::io {

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
  // Reads the time from `clock` (the steady clock unless a test brings a
  // ManualClock). Throws std::system_error if the poller cannot be created.
  explicit EventLoop(Clock& clock = SteadyClock::instance());
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Throw std::system_error (a bad fd is a bug, not an event).
  void add(int fd, Interest interest, Trigger trigger, Handler* handler) {
    poller_->add(fd, interest, trigger, handler);
  }
  void modify(int fd, Interest interest, Trigger trigger, Handler* handler) {
    poller_->modify(fd, interest, trigger, handler);
  }
  void remove(int fd) { poller_->remove(fd); }

  // Runs until stop(); returns after the current iteration.
  void run();
  void stop() { running_ = false; }
  // One iteration: waits at most `max_wait` (or until the next timer).
  void run_once(std::chrono::milliseconds max_wait);

  void defer(std::function<void()> callback);
  // Thread-safe: runs `callback` on the loop's thread soon (see above).
  // Callbacks still queued when the loop is destroyed are dropped.
  void post(std::function<void()> callback);

  // Before each blocking wait, poll without blocking for up to this long
  // (yielding the CPU between polls). 0, the default, never spins.
  void set_busy_poll(std::chrono::microseconds duration) { busy_poll_ = duration; }
  std::chrono::microseconds busy_poll() const { return busy_poll_; }

  // The clock's time, cached at each wake-up; cheap to call per packet.
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
  void run_posted();

  Clock& clock_;
  std::unique_ptr<Poller> poller_;
  bool running_ = false;
  std::chrono::microseconds busy_poll_{0};
  Time now_;
  std::vector<Timer*> heap_;
  std::vector<std::function<void()>> deferred_;
  std::vector<std::function<void()>> running_deferred_;
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;  // under posted_mutex_
  std::atomic<bool> has_posted_{false};        // posted_ is not empty
  std::vector<std::function<void()>> running_posted_;
};

}  // namespace rtether::io
