// Engine tests for a relay with --secret (RelayConfig::secret): a
// ClientSession sends its nonce after the id and relays nothing, not one
// packet either way, until the right answer came; a wrong one, the stream
// ending first, or silence past the deadline (a manual clock) closes the
// session and is counted.
#include <gtest/gtest.h>

#include <string>

#include "io/crypto.hpp"
#include "relay/client_session.hpp"
#include "relay/fake_device.hpp"
#include "wire/secret_handshake.hpp"

namespace rtether::relay {
namespace {

using namespace std::chrono_literals;
using testing::FakeDevice;
using testing::HostListener;
namespace flag = wire::tcp_flag;
namespace handshake = wire::secret_handshake;

const std::string kSecret = "0123456789abcdef-test-secret";

class SecretSessionTest : public ::testing::Test {
 protected:
  SecretSessionTest() {
    config_.secret.assign(kSecret.begin(), kSecret.end());
    device_.expect_secret_nonce();
    session_ = std::make_unique<ClientSession>(loop_, device_.take_relay_end(), 5, config_,
                                               [this](std::uint32_t) { closed_ = true; });
    session_->start();
    EXPECT_TRUE(device_.run_until([&] { return device_.nonce().has_value(); }));
  }

  io::Sha256Digest answer(const std::string& secret) {
    auto message = handshake::answered_message(*device_.client_id(), *device_.nonce());
    return io::hmac_sha256(
        wire::Bytes{reinterpret_cast<const std::uint8_t*>(secret.data()), secret.size()}, message);
  }

  // A SYN to the listener: how the test sees whether anything is relayed.
  void send_syn() {
    device_.send_tcp(testing::device_tcp(40000, listener_.port, 1000, 0, flag::kSyn));
  }
  bool host_connected() {
    device_.run_until(
        [&] { return accepted_.valid() || (accepted_ = listener_.accept_one()).valid(); }, 200ms);
    return accepted_.valid();
  }

  io::ManualClock clock_;
  io::EventLoop loop_{clock_};
  FakeDevice device_{loop_};
  RelayConfig config_;
  std::unique_ptr<ClientSession> session_;
  HostListener listener_;
  io::Fd accepted_;
  bool closed_ = false;
};

TEST_F(SecretSessionTest, TheNonceFollowsTheIdAndIsFreshEachTime) {
  EXPECT_EQ(*device_.client_id(), 5u);
  ASSERT_EQ(device_.nonce()->size(), handshake::kNonceSize);
  FakeDevice other(loop_);
  other.expect_secret_nonce();
  ClientSession second(loop_, other.take_relay_end(), 6, config_, [](std::uint32_t) {});
  second.start();
  ASSERT_TRUE(other.run_until([&] { return other.nonce().has_value(); }));
  EXPECT_NE(*other.nonce(), *device_.nonce());
  EXPECT_FALSE(session_->relaying());
}

TEST_F(SecretSessionTest, TheRightAnswerThenPacketsIsRelayedAsBefore) {
  auto right = answer(kSecret);
  device_.send_bytes(right);  // and the SYN right behind it, in the same read
  send_syn();
  EXPECT_TRUE(host_connected());
  auto syn_ack = device_.next_tcp();
  ASSERT_TRUE(syn_ack);
  EXPECT_EQ(syn_ack->flags(), flag::kSyn | flag::kAck);
  EXPECT_TRUE(session_->relaying());
  EXPECT_EQ(session_->counters().secret_refused, 0u);
}

TEST_F(SecretSessionTest, AWrongAnswerClosesWithNothingRelayed) {
  device_.send_bytes(answer("the wrong secret, long enough"));
  send_syn();
  ASSERT_TRUE(device_.run_until([&] { return device_.closed(); }));
  EXPECT_FALSE(host_connected());
  EXPECT_TRUE(device_.packets().empty());
  EXPECT_EQ(session_->counters().secret_refused, 1u);
  EXPECT_EQ(session_->counters().packets_from_device, 0u);
  EXPECT_TRUE(closed_);
}

TEST_F(SecretSessionTest, PacketsWithoutAnAnswerAreTakenForOneAndRefused) {
  // A client that knows of no secret (Gnirehtet's app) sends a SYN at once.
  send_syn();
  ASSERT_TRUE(device_.run_until([&] { return device_.closed(); }));
  EXPECT_FALSE(host_connected());
  EXPECT_EQ(session_->counters().secret_refused, 1u);
}

TEST_F(SecretSessionTest, SilencePastTheDeadlineClosesTheSession) {
  clock_.advance(config_.secret_timeout - 1ms);
  device_.turn();
  EXPECT_FALSE(device_.closed());
  clock_.advance(1ms);
  ASSERT_TRUE(device_.run_until([&] { return device_.closed(); }));
  EXPECT_EQ(session_->counters().secret_timeout, 1u);
}

TEST_F(SecretSessionTest, AShortAnswerTimesOut) {
  auto right = answer(kSecret);
  device_.send_bytes(wire::Bytes(right).subspan(0, 20));
  device_.turn(5ms);
  EXPECT_FALSE(device_.closed());
  clock_.advance(config_.secret_timeout);
  ASSERT_TRUE(device_.run_until([&] { return device_.closed(); }));
  EXPECT_EQ(session_->counters().secret_timeout, 1u);
}

TEST_F(SecretSessionTest, ARightAnswerAfterTheDeadlineIsLate) {
  clock_.advance(config_.secret_timeout + 1s);  // before the timer had a turn
  device_.send_bytes(answer(kSecret));
  send_syn();
  ASSERT_TRUE(device_.run_until([&] { return device_.closed(); }));
  EXPECT_FALSE(host_connected());
  EXPECT_EQ(session_->counters().secret_timeout, 1u);
}

TEST_F(SecretSessionTest, HangingUpBeforeTheAnswerIsCounted) {
  auto right = answer(kSecret);
  device_.send_bytes(wire::Bytes(right).subspan(0, 10));
  device_.hang_up();
  for (int i = 0; i < 10 && !closed_; ++i) loop_.run_once(5ms);
  EXPECT_TRUE(closed_);
  EXPECT_EQ(session_->counters().secret_refused, 1u);
}

}  // namespace
}  // namespace rtether::relay
