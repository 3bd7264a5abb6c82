// The steady clock every loop shares by default; see clock.hpp.
#include "io/clock.hpp"

namespace rtether::io {

SteadyClock& SteadyClock::instance() {
  static SteadyClock clock;
  return clock;
}

}  // namespace rtether::io
