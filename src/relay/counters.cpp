// Counters arithmetic and the one-line summary used in logs.
#include "relay/counters.hpp"

#include <fmt/core.h>

namespace rtether::relay {

Counters& Counters::operator+=(const Counters& other) {
#define RTETHER_COUNTER_ADD(name, meaning) name += other.name;
  RTETHER_RELAY_COUNTERS(RTETHER_COUNTER_ADD)
#undef RTETHER_COUNTER_ADD
  return *this;
}

std::string Counters::summary() const {
  std::string text;
  for_each([&text](const char* name, const char*, std::uint64_t value) {
    if (value == 0) return;
    if (!text.empty()) text += ' ';
    text += fmt::format("{}={}", name, value);
  });
  return text.empty() ? "no traffic" : text;
}

}  // namespace rtether::relay
