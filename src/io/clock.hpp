// Clock: where the event loop reads the time. The real one is the steady
// clock; ManualClock stands still until a test advances it, so timers
// (idle expiry, drain limits, TIME-WAIT, retransmissions) are tested in
// milliseconds of real time, exactly at their deadlines.
#pragma once

#include <chrono>

namespace rtether::io {

using Time = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Time now() const = 0;
};

class SteadyClock final : public Clock {
 public:
  Time now() const override { return std::chrono::steady_clock::now(); }
  // One is enough for every loop: it holds no state.
  static SteadyClock& instance();
};

class ManualClock final : public Clock {
 public:
  // Starts at the real time, so deadlines computed from it look ordinary.
  ManualClock() : now_(std::chrono::steady_clock::now()) {}
  Time now() const override { return now_; }
  // Timers that fall due fire on the loop's next iteration.
  void advance(std::chrono::steady_clock::duration by) { now_ += by; }

 private:
  Time now_;
};

}  // namespace rtether::io
