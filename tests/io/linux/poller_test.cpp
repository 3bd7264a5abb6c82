// The Poller backend: declared interest and trigger in, OS-neutral
// readiness out (a peer's half-close, writability only when asked for,
// level-triggered registrations reported again while they hold).
#include "io/poller.hpp"

#include <sys/socket.h>

#include <gtest/gtest.h>

#include "io/socket.hpp"

namespace rtether::io {
namespace {

using namespace std::chrono_literals;

struct Pair {
  Fd a, b;
  Pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    a = Fd(fds[0]);
    b = Fd(fds[1]);
  }
};

struct NullHandler : Handler {
  void on_ready(Readiness) override {}
};

TEST(Poller, ReadInterestReportsDataAndThePeersHalfClose) {
  auto poller = make_poller();
  Pair pair;
  NullHandler handler;
  poller->add(pair.a.get(), Interest::Read, Trigger::Edge, &handler);
  EXPECT_TRUE(poller->wait(0ms).empty()) << "writable, but writing was not asked for";
  ASSERT_EQ(::send(pair.b.get(), "x", 1, 0), 1);
  auto ready = poller->wait(100ms);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].handler, &handler);
  EXPECT_TRUE(ready[0].readiness.readable);
  EXPECT_FALSE(ready[0].readiness.writable);
  EXPECT_FALSE(ready[0].readiness.peer_closed);
  ::shutdown(pair.b.get(), SHUT_WR);
  ready = poller->wait(100ms);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_TRUE(ready[0].readiness.peer_closed);
  EXPECT_TRUE(ready[0].readiness.peer_done());
  EXPECT_FALSE(ready[0].readiness.hangup) << "our side can still write";
  poller->remove(pair.a.get());
}

TEST(Poller, WriteInterestReportsRoomAndTheHangUp) {
  auto poller = make_poller();
  Pair pair;
  NullHandler handler;
  poller->add(pair.a.get(), Interest::ReadWrite, Trigger::Edge, &handler);
  auto ready = poller->wait(100ms);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_TRUE(ready[0].readiness.writable);
  EXPECT_FALSE(ready[0].readiness.readable);
  pair.b.reset();
  ready = poller->wait(100ms);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_TRUE(ready[0].readiness.hangup);
  EXPECT_TRUE(ready[0].readiness.readable_or_closed());
  poller->remove(pair.a.get());
}

TEST(Poller, LevelTriggerReportsAgainWhileReadinessHolds) {
  auto poller = make_poller();
  Pair pair;
  NullHandler handler;
  poller->add(pair.a.get(), Interest::Read, Trigger::Level, &handler);
  ASSERT_EQ(::send(pair.b.get(), "x", 1, 0), 1);
  EXPECT_EQ(poller->wait(100ms).size(), 1u);
  EXPECT_EQ(poller->wait(0ms).size(), 1u) << "still unread";
  poller->modify(pair.a.get(), Interest::Read, Trigger::Edge, &handler);
  EXPECT_EQ(poller->wait(0ms).size(), 1u) << "the new registration sees the data once";
  EXPECT_TRUE(poller->wait(0ms).empty());
  poller->remove(pair.a.get());
}

}  // namespace
}  // namespace rtether::io
