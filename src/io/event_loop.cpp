// The portable loop: timer heap, deferred callbacks, busy-poll policy; see
// event_loop.hpp for the model. Waiting is the Poller's.
#include "io/event_loop.hpp"

#include <algorithm>
#include <thread>

namespace rtether::io {

Timer::Timer(EventLoop& loop, std::function<void()> callback)
    : loop_(loop), callback_(std::move(callback)) {}

Timer::~Timer() { cancel(); }

void Timer::arm(Time deadline) {
  if (armed()) {
    if (deadline == deadline_) return;
    bool earlier = deadline < deadline_;
    deadline_ = deadline;
    if (earlier)
      loop_.heap_sift_up(heap_index_);
    else
      loop_.heap_sift_down(heap_index_);
    return;
  }
  deadline_ = deadline;
  loop_.heap_insert(this);
}

void Timer::cancel() {
  if (armed()) loop_.heap_remove(this);
}

EventLoop::EventLoop(Clock& clock) : clock_(clock), poller_(make_poller()), now_(clock.now()) {}

EventLoop::~EventLoop() {
  for (Timer* timer : heap_) timer->heap_index_ = Timer::kNotArmed;
}

void EventLoop::defer(std::function<void()> callback) { deferred_.push_back(std::move(callback)); }

void EventLoop::post(std::function<void()> callback) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(callback));
    has_posted_.store(true, std::memory_order_release);
  }
  poller_->wake();
}

void EventLoop::run_posted() {
  {
    std::lock_guard lock(posted_mutex_);
    if (posted_.empty()) return;
    running_posted_.swap(posted_);
    has_posted_.store(false, std::memory_order_relaxed);
  }
  for (auto& callback : running_posted_) callback();
  running_posted_.clear();
}

Time EventLoop::refresh_now() {
  now_ = clock_.now();
  return now_;
}

void EventLoop::run() {
  running_ = true;
  while (running_) run_once(std::chrono::milliseconds(1000));
}

void EventLoop::run_once(std::chrono::milliseconds max_wait) {
  std::chrono::milliseconds timeout = max_wait;
  // A wait may take (and drain) the wake of a post() and report nothing:
  // the queue, filled before the wake, is what says a post is waiting.
  auto posted = [this] { return has_posted_.load(std::memory_order_acquire); };
  if (!deferred_.empty() || posted()) {
    timeout = std::chrono::milliseconds(0);
  } else if (!heap_.empty()) {
    auto until = heap_.front()->deadline_ - clock_.now();
    // Round up so a timer is never polled a millisecond early and spins.
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(until);
    timeout = std::clamp(ms, std::chrono::milliseconds(0), max_wait);
  }
  std::span<const ReadyHandler> ready;
  if (busy_poll_.count() > 0 && timeout.count() != 0) {
    // Bounded busy poll before sleeping: waking a thread whose CPU went idle
    // costs tens of microseconds on a VM, more than a request/response
    // round trip takes to come back. Yielding hands the CPU to any runnable
    // task meanwhile, so the spin only uses time nobody wants. The spin is
    // CPU time, so it is measured on the steady clock whatever the loop's.
    auto until = std::chrono::steady_clock::now() + busy_poll_;
    do {
      ready = poller_->wait(std::chrono::milliseconds(0));
      if (ready.empty()) std::this_thread::yield();
    } while (ready.empty() && !posted() && std::chrono::steady_clock::now() < until);
  }
  if (ready.empty()) ready = poller_->wait(posted() ? std::chrono::milliseconds(0) : timeout);
  refresh_now();
  for (const ReadyHandler& entry : ready) entry.handler->on_ready(entry.readiness);
  run_deferred();
  // A post() after this look wakes the next wait, so none waits long.
  run_posted();
  run_deferred();
  run_timers();
  run_deferred();
}

void EventLoop::run_timers() {
  while (!heap_.empty() && heap_.front()->deadline_ <= now_) {
    Timer* timer = heap_.front();
    heap_remove(timer);
    timer->callback_();
  }
}

void EventLoop::run_deferred() {
  while (!deferred_.empty()) {
    running_deferred_.swap(deferred_);
    for (auto& callback : running_deferred_) callback();
    running_deferred_.clear();
  }
}

void EventLoop::heap_insert(Timer* timer) {
  timer->heap_index_ = heap_.size();
  heap_.push_back(timer);
  heap_sift_up(timer->heap_index_);
}

void EventLoop::heap_remove(Timer* timer) {
  std::size_t index = timer->heap_index_;
  Timer* last = heap_.back();
  heap_.pop_back();
  timer->heap_index_ = Timer::kNotArmed;
  if (last == timer) return;
  heap_[index] = last;
  last->heap_index_ = index;
  heap_sift_up(index);
  heap_sift_down(last->heap_index_);
}

void EventLoop::heap_sift_up(std::size_t index) {
  Timer* timer = heap_[index];
  while (index > 0) {
    std::size_t parent = (index - 1) / 2;
    if (heap_[parent]->deadline_ <= timer->deadline_) break;
    heap_[index] = heap_[parent];
    heap_[index]->heap_index_ = index;
    index = parent;
  }
  heap_[index] = timer;
  timer->heap_index_ = index;
}

void EventLoop::heap_sift_down(std::size_t index) {
  Timer* timer = heap_[index];
  std::size_t size = heap_.size();
  while (true) {
    std::size_t child = 2 * index + 1;
    if (child >= size) break;
    if (child + 1 < size && heap_[child + 1]->deadline_ < heap_[child]->deadline_) ++child;
    if (timer->deadline_ <= heap_[child]->deadline_) break;
    heap_[index] = heap_[child];
    heap_[index]->heap_index_ = index;
    index = child;
  }
  heap_[index] = timer;
  timer->heap_index_ = index;
}

}  // namespace rtether::io
