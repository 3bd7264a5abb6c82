// SecretCheck; see secret_check.hpp.
#include "relay/secret_check.hpp"

#include <algorithm>
#include <cstring>

namespace rtether::relay {

std::size_t SecretCheck::feed(wire::Bytes input, io::Time now) {
  if (state_ != State::Waiting || input.empty()) return 0;
  if (now >= deadline_) {
    state_ = State::TimedOut;
    return 0;
  }
  const std::size_t taken = std::min(input.size(), missing());
  std::memcpy(answer_.data() + received_, input.data(), taken);
  received_ += taken;
  if (received_ == answer_.size())
    state_ = io::equal_in_constant_time(answer_, expected_) ? State::Passed : State::Failed;
  return taken;
}

void SecretCheck::on_deadline(io::Time now) {
  if (state_ == State::Waiting && now >= deadline_) state_ = State::TimedOut;
}

const char* to_string(SecretCheck::State state) {
  switch (state) {
    case SecretCheck::State::Waiting:
      return "waiting";
    case SecretCheck::State::Passed:
      return "passed";
    case SecretCheck::State::Failed:
      return "wrong secret answer";
    case SecretCheck::State::TimedOut:
      return "no secret answer in time";
  }
  return "?";
}

}  // namespace rtether::relay
