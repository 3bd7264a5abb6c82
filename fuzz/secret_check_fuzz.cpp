// Fuzz target: the relay's --secret handshake check. The input is a script
// of client reads: each step is a length byte, a time step byte, then that
// many answer bytes. The expected answer is the HMAC of a fixed secret and
// nonce; the check must take at most missing() bytes per read, never more
// than 32 in all, decide only once it has 32 (Passed exactly when they
// equal the expected answer), never take bytes at or past the deadline,
// and never leave a decided state.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "io/crypto.hpp"
#include "relay/secret_check.hpp"
#include "wire/secret_handshake.hpp"

namespace {
void require(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rtether;
  using State = relay::SecretCheck::State;
  static const io::Sha256Digest expected = [] {
    const std::string_view secret = "fuzzing secret, 16+ bytes";
    std::vector<std::uint8_t> nonce(wire::secret_handshake::kNonceSize, 0x5a);
    return io::hmac_sha256(
        wire::Bytes{reinterpret_cast<const std::uint8_t*>(secret.data()), secret.size()},
        wire::secret_handshake::answered_message(3, nonce));
  }();
  const io::Time start{};
  const io::Time deadline = start + std::chrono::seconds(5);
  relay::SecretCheck check(expected, deadline);
  io::Time now = start;
  std::vector<std::uint8_t> taken;
  std::size_t at = 0;
  while (at + 2 <= size) {
    const std::size_t length = data[at];
    now += std::chrono::milliseconds(data[at + 1] * 20);
    at += 2;
    const std::size_t available = std::min(length, size - at);
    const State before = check.state();
    const std::size_t missing = check.missing();
    const std::size_t got = check.feed({data + at, available}, now);
    require(got <= missing && got <= available);
    if (before != State::Waiting) require(got == 0 && check.state() == before);
    if (now >= deadline) require(got == 0);
    taken.insert(taken.end(), data + at, data + at + got);
    at += available;
    if (available % 7 == 3) check.on_deadline(now);
  }
  require(taken.size() <= expected.size());
  if (check.state() == State::Passed || check.state() == State::Failed) {
    require(taken.size() == expected.size());
    const bool equal = std::memcmp(taken.data(), expected.data(), expected.size()) == 0;
    require((check.state() == State::Passed) == equal);
  } else {
    require(check.state() == State::TimedOut || taken.size() < expected.size());
  }
  return 0;
}
