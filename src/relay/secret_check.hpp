// SecretCheck: the relay's side of the --secret handshake (the bytes are in
// wire/secret_handshake.hpp), as a state machine of input and time with no
// I/O, so every way an answer can go wrong is a unit test:
//
//   Waiting --(kAnswerSize bytes equal to the expected answer)--> Passed
//   Waiting --(kAnswerSize bytes, any other)--------------------> Failed
//   Waiting --(the deadline passes: silence, a short answer,
//              or answer bytes that arrive at or after it)------> TimedOut
//
// The answer is compared only once it is whole, in constant time. Nothing
// the client sends before Passed may be relayed; ClientSession reads no
// more than missing() bytes until then, so the first IP packet's bytes are
// never taken for an answer.
#pragma once

#include <cstddef>
#include <cstdint>

#include "io/clock.hpp"
#include "io/crypto.hpp"
#include "wire/bytes.hpp"
#include "wire/secret_handshake.hpp"

namespace rtether::relay {

class SecretCheck {
 public:
  enum class State { Waiting, Passed, Failed, TimedOut };

  SecretCheck(const io::Sha256Digest& expected, io::Time deadline)
      : expected_(expected), deadline_(deadline) {}

  // Takes answer bytes from the front of `input`, at most missing(), and
  // returns how many it took (none unless Waiting). Bytes at or after the
  // deadline time the check out instead.
  std::size_t feed(wire::Bytes input, io::Time now);
  // The deadline's timer: still Waiting at `now` >= deadline -> TimedOut.
  void on_deadline(io::Time now);

  State state() const { return state_; }
  std::size_t missing() const { return wire::secret_handshake::kAnswerSize - received_; }
  io::Time deadline() const { return deadline_; }

 private:
  io::Sha256Digest expected_;
  io::Sha256Digest answer_{};
  std::size_t received_ = 0;
  io::Time deadline_;
  State state_ = State::Waiting;
};

const char* to_string(SecretCheck::State state);

}  // namespace rtether::relay
