// AcceptPause on a level-triggered unix listener: connections are handed
// over as they come; when accept fails for want of fds the socket leaves the
// loop (the loop sleeps instead of spinning), and the waiting connection is
// accepted once fds are back.
#include "io/accept_pause.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "io/linux/fd_exhaustion.hpp"

namespace rtether::io {
namespace {

using namespace std::chrono_literals;

// Turns `loop` until `done` or `limit`; returns the turns it took. A free
// function: under EMFILE the sanitizers cannot check a member call's type.
int turn_until(EventLoop& loop, const std::function<bool()>& done,
               std::chrono::milliseconds limit = 3000ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int turns = 0;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    loop.run_once(20ms);
    ++turns;
  }
  return turns;
}

class AcceptPauseTest : public ::testing::Test {
 protected:
  struct Listener : Handler {
    AcceptPause* pause = nullptr;
    void on_ready(Readiness) override { pause->accept(); }
  };

  AcceptPauseTest() {
    path_ = "@rtether-accept-pause-test-" + std::to_string(::getpid());
    listen_fd_ = listen_unix(path_);
    listener_.pause = &pause_;
    pause_.watch(listen_fd_.get(), &listener_);
  }

  EventLoop loop_;
  std::string path_;
  Fd listen_fd_;
  std::vector<Fd> accepted_;
  AcceptPause pause_{loop_, "test", [this](Fd fd) { accepted_.push_back(std::move(fd)); }};
  Listener listener_;
};

TEST_F(AcceptPauseTest, ConnectionsAreHandedOver) {
  Fd first = connect_unix_blocking(path_);
  Fd second = connect_unix_blocking(path_);
  turn_until(loop_, [&] { return accepted_.size() == 2; });
  EXPECT_EQ(accepted_.size(), 2u);
  EXPECT_FALSE(pause_.paused());
  EXPECT_EQ(pause_.failed_tries(), 0u);
}

TEST_F(AcceptPauseTest, OutOfFdsItPausesAndAcceptsLater) {
  // One accepted while fds are plenty: the sanitizers' first check of a
  // dynamic type needs fds of its own.
  Fd early = connect_unix_blocking(path_);
  turn_until(loop_, [&] { return accepted_.size() == 1; });
  Fd client = connect_unix_blocking(path_);  // queued, not accepted yet
  testing::FdExhaustion exhaustion;
  ASSERT_TRUE(exhaustion.exhausted());

  // 300 ms of a loop that waits at most 20 ms per turn: about 15 turns when
  // the listener pauses, thousands when a readable listener spins. It
  // retries every 100 ms meanwhile.
  const int turns = turn_until(loop_, [] { return false; }, 300ms);
  EXPECT_LT(turns, 60);
  EXPECT_EQ(accepted_.size(), 1u);
  EXPECT_GE(pause_.failed_tries(), 2u);
  EXPECT_LE(pause_.failed_tries(), 10u);

  exhaustion.release();
  turn_until(loop_, [&] { return accepted_.size() == 2; });
  EXPECT_EQ(accepted_.size(), 2u);
  EXPECT_EQ(pause_.failed_tries(), 0u);  // the streak ended
  EXPECT_FALSE(pause_.paused());
}

TEST_F(AcceptPauseTest, StopWhilePausedCancelsTheResume) {
  Fd early = connect_unix_blocking(path_);  // accepted while fds are plenty
  turn_until(loop_, [&] { return accepted_.size() == 1; });
  Fd client = connect_unix_blocking(path_);
  testing::FdExhaustion exhaustion;
  ASSERT_TRUE(exhaustion.exhausted());
  turn_until(loop_, [&] { return pause_.paused(); }, 1000ms);
  ASSERT_TRUE(pause_.paused());
  pause_.stop();
  EXPECT_FALSE(pause_.paused());
  exhaustion.release();
  turn_until(loop_, [] { return false; }, 250ms);
  EXPECT_EQ(accepted_.size(), 1u);  // out of the loop for good
}

}  // namespace
}  // namespace rtether::io
