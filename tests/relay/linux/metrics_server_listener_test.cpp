// The metrics server's listening socket out of fds: accept fails with
// EMFILE, the level-triggered listener pauses instead of spinning, and the
// waiting scraper is answered once fds are back.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "io/linux/fd_exhaustion.hpp"
#include "relay/fake_device.hpp"
#include "relay/metrics_server.hpp"

namespace rtether::relay {
namespace {

using namespace std::chrono_literals;

TEST(MetricsServerListenerTest, OutOfFdsTheListenerPausesAndAnswersLater) {
  io::EventLoop loop;
  MetricsServer server(loop, io::Endpoint{testing::address("127.0.0.1"), 0},
                       [] { return std::string("rtether_sessions 1\n"); });
  auto connect = [&] {
    auto connection = io::connect_nonblocking(io::Transport::Tcp, server.endpoint());
    EXPECT_TRUE(connection);
    return connection ? std::move(connection->fd) : io::Fd{};
  };

  // Turns the loop until `done` or `limit`; returns the turns it took.
  auto turn_until = [&](const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int turns = 0;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      loop.run_once(20ms);
      ++turns;
    }
    return turns;
  };

  // One accepted while fds are plenty: the sanitizers' first check of a
  // dynamic type needs fds of its own.
  io::Fd early = connect();
  turn_until([&] { return server.connection_count() == 1; }, 3000ms);
  ASSERT_EQ(server.connection_count(), 1u);
  io::Fd client = connect();  // queued, not accepted yet

  io::testing::FdExhaustion exhaustion;
  ASSERT_TRUE(exhaustion.exhausted());
  // About 15 turns of at most 20 ms when the listener pauses, thousands
  // when a readable listener spins.
  EXPECT_LT(turn_until([] { return false; }, 300ms), 60);
  EXPECT_EQ(server.connection_count(), 1u);

  exhaustion.release();
  turn_until([&] { return server.connection_count() == 2; }, 3000ms);
  EXPECT_EQ(server.connection_count(), 2u);
}

}  // namespace
}  // namespace rtether::relay
