// SecretCheck: the relay's --secret handshake state machine, fed answers
// that are right, wrong, short, late, split, replayed from another
// connection, or followed by packet bytes.
#include "relay/secret_check.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rtether::relay {
namespace {

using namespace std::chrono_literals;
namespace handshake = wire::secret_handshake;
using State = SecretCheck::State;

const std::string kSecret = "a long enough shared secret";
const io::Time kStart{};
const io::Time kDeadline = kStart + 5s;

io::Sha256Digest answer_for(std::uint32_t client_id, std::uint8_t nonce_fill,
                            const std::string& secret = kSecret) {
  std::vector<std::uint8_t> nonce(handshake::kNonceSize, nonce_fill);
  auto message = handshake::answered_message(client_id, nonce);
  return io::hmac_sha256(
      wire::Bytes{reinterpret_cast<const std::uint8_t*>(secret.data()), secret.size()}, message);
}

TEST(SecretHandshakeMessage, IsLabelThenBigEndianIdThenNonce) {
  std::vector<std::uint8_t> nonce(handshake::kNonceSize, 0xab);
  auto message = handshake::answered_message(0x01020304, nonce);
  ASSERT_EQ(message.size(), 17u + 4u + 32u);
  EXPECT_EQ(std::string(message.begin(), message.begin() + 17), "rtether secret v1");
  EXPECT_EQ(message[17], 1);
  EXPECT_EQ(message[20], 4);
  EXPECT_EQ(message[21], 0xab);
  EXPECT_EQ(message.back(), 0xab);
}

TEST(SecretCheck, TheRightAnswerPasses) {
  SecretCheck check(answer_for(7, 1), kDeadline);
  auto answer = answer_for(7, 1);
  EXPECT_EQ(check.feed(answer, kStart + 1s), 32u);
  EXPECT_EQ(check.state(), State::Passed);
}

TEST(SecretCheck, AnAnswerInPiecesPassesOnceWhole) {
  SecretCheck check(answer_for(7, 1), kDeadline);
  auto answer = answer_for(7, 1);
  wire::Bytes bytes(answer);
  EXPECT_EQ(check.feed(bytes.subspan(0, 1), kStart), 1u);
  EXPECT_EQ(check.feed(bytes.subspan(1, 20), kStart + 1s), 20u);
  EXPECT_EQ(check.state(), State::Waiting);
  EXPECT_EQ(check.missing(), 11u);
  EXPECT_EQ(check.feed(bytes.subspan(21), kStart + 2s), 11u);
  EXPECT_EQ(check.state(), State::Passed);
}

TEST(SecretCheck, AWrongAnswerFails) {
  SecretCheck check(answer_for(7, 1), kDeadline);
  EXPECT_EQ(check.feed(answer_for(7, 1, "another secret of some length"), kStart), 32u);
  EXPECT_EQ(check.state(), State::Failed);
}

TEST(SecretCheck, OneWrongBitFails) {
  for (std::size_t byte : {0u, 15u, 31u}) {
    SecretCheck check(answer_for(7, 1), kDeadline);
    auto answer = answer_for(7, 1);
    answer[byte] ^= 0x01;
    check.feed(answer, kStart);
    EXPECT_EQ(check.state(), State::Failed) << byte;
  }
}

TEST(SecretCheck, AReplayedAnswerToAnotherNonceFails) {
  // A listener saw connection 7 with nonce 1 and its answer; connection 8
  // gets nonce 2, and the answer seen before does not open it.
  SecretCheck check(answer_for(8, 2), kDeadline);
  check.feed(answer_for(7, 1), kStart);
  EXPECT_EQ(check.state(), State::Failed);
  // Nor does the old answer with the same client id (ids restart with the relay).
  SecretCheck same_id(answer_for(7, 2), kDeadline);
  same_id.feed(answer_for(7, 1), kStart);
  EXPECT_EQ(same_id.state(), State::Failed);
}

TEST(SecretCheck, AShortAnswerWaitsThenTimesOut) {
  SecretCheck check(answer_for(7, 1), kDeadline);
  auto answer = answer_for(7, 1);
  check.feed(wire::Bytes(answer).subspan(0, 31), kStart);
  check.on_deadline(kDeadline - 1ms);
  EXPECT_EQ(check.state(), State::Waiting);
  check.on_deadline(kDeadline);
  EXPECT_EQ(check.state(), State::TimedOut);
  EXPECT_EQ(check.feed(wire::Bytes(answer).subspan(31), kDeadline + 1ms), 0u);
  EXPECT_EQ(check.state(), State::TimedOut);
}

TEST(SecretCheck, SilenceTimesOut) {
  SecretCheck check(answer_for(7, 1), kDeadline);
  check.on_deadline(kDeadline + 1s);
  EXPECT_EQ(check.state(), State::TimedOut);
}

TEST(SecretCheck, ALateRightAnswerTimesOut) {
  // The answer arrives when the deadline has passed but its timer has not
  // run yet: it is late all the same.
  SecretCheck check(answer_for(7, 1), kDeadline);
  EXPECT_EQ(check.feed(answer_for(7, 1), kDeadline), 0u);
  EXPECT_EQ(check.state(), State::TimedOut);
}

TEST(SecretCheck, BytesPastTheAnswerAreLeftForTheFramer) {
  SecretCheck check(answer_for(7, 1), kDeadline);
  auto answer = answer_for(7, 1);
  std::vector<std::uint8_t> input(answer.begin(), answer.end());
  input.insert(input.end(), {0x45, 0x00, 0x00, 0x14});  // an IPv4 header begins
  EXPECT_EQ(check.feed(input, kStart), 32u);
  EXPECT_EQ(check.state(), State::Passed);
  EXPECT_EQ(check.feed(input, kStart), 0u);  // nothing more is taken once decided
}

TEST(SecretCheck, AnIpPacketInsteadOfAnAnswerFails) {
  // A client that knows no secret (Gnirehtet's app) sends IP packets at once.
  SecretCheck check(answer_for(7, 1), kDeadline);
  std::vector<std::uint8_t> packet(60, 0);
  packet[0] = 0x45;
  EXPECT_EQ(check.feed(packet, kStart), 32u);
  EXPECT_EQ(check.state(), State::Failed);
}

TEST(SecretCheck, EmptyInputChangesNothing) {
  SecretCheck check(answer_for(7, 1), kDeadline);
  EXPECT_EQ(check.feed({}, kDeadline + 1s), 0u);
  EXPECT_EQ(check.state(), State::Waiting);
}

}  // namespace
}  // namespace rtether::relay
