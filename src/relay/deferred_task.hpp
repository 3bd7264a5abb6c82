// DeferredTask: work that must run after the current batch of events (once,
// however often it is asked for before then), and never after its owner is
// gone. The loop's deferred callbacks outlive whoever queued them, so each
// task shares a small state with its queued callback: destroying the task
// marks it dead, and the callback then does nothing.
//
// Used for what a handler may not do in the middle of a batch: flushing the
// output queue once per iteration, reading on after a budget ran out,
// waking flows that wait for output room, destroying retired flows.
#pragma once

#include <functional>
#include <memory>

#include "io/event_loop.hpp"

namespace rtether::relay {

class DeferredTask {
 public:
  DeferredTask(io::EventLoop& loop, std::function<void()> work);
  ~DeferredTask();
  DeferredTask(const DeferredTask&) = delete;
  DeferredTask& operator=(const DeferredTask&) = delete;

  // Queues the work unless it is queued already; it runs once, after the
  // current batch, with the pending mark cleared first (so it may schedule
  // itself again).
  void schedule();
  bool scheduled() const { return state_->scheduled; }

 private:
  struct State {
    bool alive = true;
    bool scheduled = false;
  };

  io::EventLoop& loop_;
  std::function<void()> work_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace rtether::relay
