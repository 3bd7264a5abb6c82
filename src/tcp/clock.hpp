// The time the tcp/ state machines are given: they never read a clock, the
// caller passes `now` into every call (smoltcp's Instant).
#pragma once

#include <chrono>

namespace rtether::tcp {

using Clock = std::chrono::steady_clock;
using Time = Clock::time_point;
using Duration = Clock::duration;

}  // namespace rtether::tcp
