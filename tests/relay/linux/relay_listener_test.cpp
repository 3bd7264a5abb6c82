// The relay's listening sockets under pressure: with --secret, clients that
// have not answered yet are bounded (one more is closed as it is accepted,
// and counted); when accept fails for want of fds, the level-triggered
// listener pauses instead of spinning and accepts the waiting client once
// fds are back.
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "io/linux/fd_exhaustion.hpp"
#include "io/socket.hpp"
#include "relay/relay.hpp"

namespace rtether::relay {
namespace {

using namespace std::chrono_literals;

// What the relay sent on `fd` so far (non-blocking), and whether it hung up.
struct Received {
  std::size_t bytes = 0;
  bool closed = false;
};

void read_available(int fd, Received& received) {
  std::uint8_t buffer[4096];
  while (true) {
    long n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n == 0) received.closed = true;
    if (n <= 0) return;
    received.bytes += static_cast<std::size_t>(n);
  }
}

class RelayListenerTest : public ::testing::Test {
 protected:
  void start(RelayConfig config) {
    relay_ = std::make_unique<Relay>(loop_, std::move(config));
    path_ = "@rtether-relay-listener-test-" + std::to_string(::getpid());
    relay_->listen_unix(path_);
  }

  // Turns the loop until `done` or 3 s; returns the iterations it took.
  int turn_until(const std::function<bool()>& done,
                 std::chrono::milliseconds limit = std::chrono::milliseconds(3000)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int turns = 0;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      loop_.run_once(std::chrono::milliseconds(20));
      ++turns;
    }
    return turns;
  }

  io::EventLoop loop_;
  std::unique_ptr<Relay> relay_;
  std::string path_;
};

TEST_F(RelayListenerTest, ClientsOwingTheSecretAnswerAreBounded) {
  RelayConfig config;
  config.secret.assign(32, 0x5a);
  config.max_unanswered_clients = 2;
  start(std::move(config));

  std::vector<io::Fd> clients;
  std::vector<Received> received(3);
  for (int i = 0; i < 3; ++i) clients.push_back(io::connect_unix_blocking(path_));
  turn_until([&] {
    for (std::size_t i = 0; i < clients.size(); ++i) read_available(clients[i].get(), received[i]);
    return received[2].closed && received[0].bytes > 4 && received[1].bytes > 4;
  });
  // The first two got their id and nonce and wait for the answer; the third
  // was closed with nothing sent.
  EXPECT_GT(received[0].bytes, 4u);
  EXPECT_GT(received[1].bytes, 4u);
  EXPECT_FALSE(received[0].closed);
  EXPECT_TRUE(received[2].closed);
  EXPECT_EQ(received[2].bytes, 0u);
  EXPECT_EQ(relay_->client_count(), 2u);
  EXPECT_EQ(relay_->totals().secret_pending_limit, 1u);

  // Once one of them has gone, a new client is accepted again.
  clients[0] = io::Fd{};
  turn_until([&] { return relay_->client_count() == 1; });
  io::Fd late = io::connect_unix_blocking(path_);
  Received late_received;
  turn_until([&] {
    read_available(late.get(), late_received);
    return late_received.bytes > 4 || late_received.closed;
  });
  EXPECT_FALSE(late_received.closed);
  EXPECT_EQ(relay_->totals().secret_pending_limit, 1u);
}

TEST_F(RelayListenerTest, OutOfFdsTheListenerPausesAndAcceptsLater) {
  start(RelayConfig{});
  // One client accepted first: the listener's first dispatch happens with
  // fds to spare (UBSan's first type check of a handler needs one of its
  // own, and would report a false "invalid vptr" under EMFILE).
  io::Fd first = io::connect_unix_blocking(path_);
  Received greeting;
  turn_until([&] {
    read_available(first.get(), greeting);
    return greeting.bytes >= 4;
  });
  ASSERT_EQ(relay_->client_count(), 1u);
  turn_until([] { return false; }, 100ms);  // its session's events too

  io::Fd client = io::connect_unix_blocking(path_);  // queued, not accepted yet
  io::testing::FdExhaustion exhaustion;  // accept4 gets EMFILE from here on
  ASSERT_TRUE(exhaustion.exhausted());

  // 300 ms of a loop that waits at most 20 ms per turn: about 15 turns when
  // the listener pauses, thousands when a readable listener spins.
  const int turns = turn_until([] { return false; }, 300ms);
  EXPECT_LT(turns, 60);
  EXPECT_EQ(relay_->client_count(), 1u);

  exhaustion.release();
  Received received;
  turn_until([&] {
    read_available(client.get(), received);
    return received.bytes >= 4 || received.closed;
  });
  EXPECT_EQ(relay_->client_count(), 2u);
  EXPECT_EQ(received.bytes, 4u);  // the client id
  EXPECT_FALSE(received.closed);
}

}  // namespace
}  // namespace rtether::relay
