// The WSAPoll backend: the Edge contract emulated on a level-triggered wait
// (a direction reported once, again only after an io call of that direction
// would block), Level reported while it holds, and a peer's close reported
// once, not on every wait.
#include "io/poller.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "io/socket.hpp"
#include "loopback.hpp"

namespace rtether::io {
namespace {

using namespace std::chrono_literals;
using testing::TcpPair;
using testing::text;

struct NullHandler : Handler {
  void on_ready(Readiness) override {}
};

// Reads until the call would block, as an Edge handler does.
std::size_t drain(int fd) {
  std::uint8_t buffer[4096];
  std::size_t total = 0;
  for (;;) {
    auto got = recv_some(fd, buffer);
    if (!got || *got == 0) return total;
    total += *got;
  }
}

TEST(WsaPollPoller, EdgeReadIsReportedOnceUntilAReadWouldBlock) {
  auto poller = make_poller();
  TcpPair pair;
  NullHandler handler;
  poller->add(pair.b.get(), Interest::Read, Trigger::Edge, &handler);
  EXPECT_TRUE(poller->wait(0ms).empty()) << "writable, but writing was not asked for";
  ASSERT_TRUE(send_some(pair.a.get(), text("abc", 3)));
  auto ready = poller->wait(1000ms);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].handler, &handler);
  EXPECT_TRUE(ready[0].readiness.readable);
  EXPECT_FALSE(ready[0].readiness.writable);
  EXPECT_TRUE(poller->wait(20ms).empty()) << "unread data, but the edge was reported";
  EXPECT_EQ(drain(pair.b.get()), 3u);
  EXPECT_TRUE(poller->wait(20ms).empty()) << "nothing new after the read would block";
  ASSERT_TRUE(send_some(pair.a.get(), text("de", 2)));
  ready = poller->wait(1000ms);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_TRUE(ready[0].readiness.readable);
}

TEST(WsaPollPoller, EdgeWriteIsReportedOnceWhileRoomLasts) {
  auto poller = make_poller();
  TcpPair pair;
  NullHandler handler;
  poller->add(pair.a.get(), Interest::Write, Trigger::Edge, &handler);
  auto ready = poller->wait(1000ms);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_TRUE(ready[0].readiness.writable);
  EXPECT_TRUE(poller->wait(20ms).empty());
  // Filling the send path until it would block rearms writability, which
  // returns once the peer reads.
  std::vector<std::uint8_t> chunk(64 * 1024, 7);
  int sends = 0;
  while (send_some(pair.a.get(), chunk) && sends < 10000) ++sends;
  ASSERT_LT(sends, 10000) << "the send buffer never filled";
  EXPECT_TRUE(poller->wait(20ms).empty()) << "full, not writable";
  for (int round = 0; round < 100; ++round) {
    drain(pair.b.get());
    ready = poller->wait(20ms);
    if (!ready.empty()) break;
  }
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_TRUE(ready[0].readiness.writable);
}

TEST(WsaPollPoller, LevelReadIsReportedOnEveryWaitWhileDataWaits) {
  auto poller = make_poller();
  TcpPair pair;
  NullHandler handler;
  poller->add(pair.b.get(), Interest::Read, Trigger::Level, &handler);
  ASSERT_TRUE(send_some(pair.a.get(), text("x", 1)));
  EXPECT_EQ(poller->wait(1000ms).size(), 1u);
  EXPECT_EQ(poller->wait(0ms).size(), 1u);
  drain(pair.b.get());
  EXPECT_TRUE(poller->wait(20ms).empty());
}

TEST(WsaPollPoller, ThePeersCloseIsReportedOnceAsPeerClosed) {
  auto poller = make_poller();
  TcpPair pair;
  NullHandler handler;
  poller->add(pair.b.get(), Interest::Read, Trigger::Edge, &handler);
  ASSERT_FALSE(shutdown_write(pair.a.get()));
  auto ready = poller->wait(1000ms);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_TRUE(ready[0].readiness.peer_done());
  EXPECT_TRUE(ready[0].readiness.readable_or_closed());
  std::uint8_t buffer[16];
  auto got = recv_some(pair.b.get(), buffer);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, 0u) << "end of stream";
  EXPECT_TRUE(poller->wait(20ms).empty()) << "a hang-up nobody reads must not spin the loop";
  // Our side still sends after the peer's half-close.
  EXPECT_TRUE(send_some(pair.b.get(), text("late", 4)));
}

TEST(WsaPollPoller, AStaleHangUpNeitherEndsTheWaitNorHidesRoomToWrite) {
  auto poller = make_poller();
  TcpPair pair;
  NullHandler handler;
  poller->add(pair.b.get(), Interest::ReadWrite, Trigger::Edge, &handler);
  ASSERT_EQ(poller->wait(1000ms).size(), 1u);  // writable
  ASSERT_FALSE(shutdown_write(pair.a.get()));
  auto ready = poller->wait(1000ms);
  ASSERT_EQ(ready.size(), 1u);
  ASSERT_TRUE(ready[0].readiness.peer_closed);
  // The peer reads no more for now: fill its way until a send would block.
  std::vector<std::uint8_t> chunk(64 * 1024, 7);
  int sends = 0;
  while (send_some(pair.b.get(), chunk) && sends < 10000) ++sends;
  ASSERT_LT(sends, 10000) << "the send buffer never filled";
  const auto start = std::chrono::steady_clock::now();
  ready = poller->wait(50ms);
  EXPECT_TRUE(ready.empty());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 45ms) << "the old POLLHUP ended the wait";
  for (int round = 0; round < 100 && ready.empty(); ++round) {
    drain(pair.a.get());
    ready = poller->wait(20ms);
  }
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_TRUE(ready[0].readiness.writable);
}

TEST(WsaPollPoller, APeersResetIsAnErrorHangUpAndReadsAsAReset) {
  auto poller = make_poller();
  Fd listener = listen_tcp({testing::loopback(), 0});
  auto connection = connect_nonblocking(Transport::Tcp, *local_endpoint(listener.get()));
  ASSERT_TRUE(connection);
  NullHandler handler;
  poller->add(connection->fd.get(), Interest::Read, Trigger::Edge, &handler);
  std::this_thread::sleep_for(50ms);
  // A listener closed with the connection still in its queue resets it.
  listener.reset();
  std::span<const ReadyHandler> ready;
  for (int round = 0; round < 100 && ready.empty(); ++round) ready = poller->wait(20ms);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_TRUE(ready[0].readiness.error);
  EXPECT_TRUE(ready[0].readiness.hangup);
  std::uint8_t buffer[16];
  EXPECT_EQ(recv_some(connection->fd.get(), buffer).error(), std::errc::connection_reset)
      << "not an end of stream (Wine's recv says 0)";
}

TEST(WsaPollPoller, ModifyReportsTheNewInterestAsItStands) {
  auto poller = make_poller();
  TcpPair pair;
  NullHandler handler;
  poller->add(pair.a.get(), Interest::Read, Trigger::Edge, &handler);
  EXPECT_TRUE(poller->wait(0ms).empty());
  poller->modify(pair.a.get(), Interest::ReadWrite, Trigger::Edge, &handler);
  auto ready = poller->wait(1000ms);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_TRUE(ready[0].readiness.writable);
  poller->remove(pair.a.get());
  EXPECT_TRUE(poller->wait(0ms).empty());
}

TEST(WsaPollPoller, AnEmptySetWaitsForTheTimeout) {
  auto poller = make_poller();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(poller->wait(30ms).empty());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 25ms);
}

}  // namespace
}  // namespace rtether::io
