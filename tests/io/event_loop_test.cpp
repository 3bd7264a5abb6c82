// EventLoop: fd dispatch, timer ordering/re-arm/cancel, deferred callbacks.
// Portable: the fd made readable on demand is a loopback UDP socket.
#include "io/event_loop.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "io/datagram.hpp"
#include "io/socket.hpp"

namespace rtether::io {
namespace {

using namespace std::chrono_literals;

// `reader` turns readable each time poke() sends it a datagram.
struct Wakeup {
  Fd reader;
  Fd writer;
  Wakeup() {
    wire::IpAddress loopback;
    wire::IpAddress::parse("127.0.0.1", loopback);
    reader = bind_udp({loopback, 0});
    writer = std::move(connect_nonblocking(Transport::Udp, *local_endpoint(reader.get()))->fd);
  }
  bool poke() {
    const std::uint8_t one = 1;
    return send_some(writer.get(), {&one, 1}).ok();
  }
  int fd() const { return reader.get(); }
};

struct CountingHandler : Handler {
  int calls = 0;
  Readiness last;
  void on_ready(Readiness readiness) override {
    ++calls;
    last = readiness;
  }
};

TEST(EventLoop, DispatchesReadinessToTheRegisteredHandler) {
  EventLoop loop;
  Wakeup event;
  CountingHandler handler;
  loop.add(event.fd(), Interest::Read, Trigger::Edge, &handler);
  ASSERT_TRUE(event.poke());
  loop.run_once(100ms);
  EXPECT_EQ(handler.calls, 1);
  EXPECT_TRUE(handler.last.readable);
  EXPECT_FALSE(handler.last.writable) << "no write interest was declared";
  loop.remove(event.fd());
}

TEST(EventLoop, EdgeTriggeredRegistrationFiresOncePerEdge) {
  EventLoop loop;
  Wakeup event;
  CountingHandler handler;
  loop.add(event.fd(), Interest::Read, Trigger::Edge, &handler);
  ASSERT_TRUE(event.poke());
  loop.run_once(50ms);
  loop.run_once(10ms);  // still readable, but no new edge
  EXPECT_EQ(handler.calls, 1);
  loop.remove(event.fd());
}

TEST(EventLoop, TimersFireInDeadlineOrder) {
  EventLoop loop;
  std::vector<int> order;
  Timer late(loop, [&] { order.push_back(3); });
  Timer early(loop, [&] { order.push_back(1); });
  Timer middle(loop, [&] { order.push_back(2); });
  auto now = loop.refresh_now();
  late.arm(now + 30ms);
  early.arm(now + 10ms);
  middle.arm(now + 20ms);
  for (int i = 0; i < 20 && order.size() < 3; ++i) loop.run_once(50ms);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(EventLoop, RearmMovesAndCancelStopsATimer) {
  EventLoop loop;
  int fired_a = 0, fired_b = 0;
  Timer a(loop, [&] { ++fired_a; });
  Timer b(loop, [&] { ++fired_b; });
  auto now = loop.refresh_now();
  a.arm(now + 1h);
  b.arm(now + 5ms);
  a.arm(now + 1ms);  // earlier now
  b.cancel();
  EXPECT_FALSE(b.armed());
  for (int i = 0; i < 10 && fired_a == 0; ++i) loop.run_once(20ms);
  loop.run_once(10ms);
  EXPECT_EQ(fired_a, 1);
  EXPECT_EQ(fired_b, 0);
  EXPECT_FALSE(a.armed());
}

TEST(EventLoop, DestroyedTimerLeavesTheHeap) {
  EventLoop loop;
  int fired = 0;
  Timer keeper(loop, [&] { ++fired; });
  auto now = loop.refresh_now();
  {
    Timer doomed(loop, [&] { fired += 100; });
    doomed.arm(now + 1ms);
  }
  keeper.arm(now + 2ms);
  for (int i = 0; i < 10 && fired == 0; ++i) loop.run_once(20ms);
  EXPECT_EQ(fired, 1);
}

TEST(EventLoop, DeferredCallbacksRunAfterTheBatchAndMayDeferAgain) {
  EventLoop loop;
  std::vector<int> order;
  loop.defer([&] {
    order.push_back(1);
    loop.defer([&] { order.push_back(2); });
  });
  loop.run_once(0ms);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

}  // namespace
}  // namespace rtether::io

namespace rtether::io {
namespace {

using namespace std::chrono_literals;

TEST(EventLoopBusyPoll, EventArrivingDuringTheSpinIsDispatched) {
  EventLoop loop;
  loop.set_busy_poll(std::chrono::microseconds(200000));
  Wakeup event;
  struct Counter : Handler {
    int calls = 0;
    void on_ready(Readiness) override { ++calls; }
  } handler;
  loop.add(event.fd(), Interest::Read, Trigger::Edge, &handler);
  ASSERT_TRUE(event.poke());
  loop.run_once(1000ms);
  EXPECT_EQ(handler.calls, 1);
  loop.remove(event.fd());
}

TEST(EventLoopBusyPoll, IdleLoopStillSleepsUntilItsTimer) {
  EventLoop loop;
  loop.set_busy_poll(std::chrono::microseconds(100));
  bool fired = false;
  Timer timer(loop, [&] { fired = true; });
  auto start = loop.refresh_now();
  timer.arm(start + 30ms);
  for (int i = 0; i < 100 && !fired; ++i) loop.run_once(1000ms);
  EXPECT_TRUE(fired);
  EXPECT_GE(loop.now() - start, 30ms);
}

}  // namespace
}  // namespace rtether::io

namespace rtether::io {
namespace {

using namespace std::chrono_literals;

TEST(EventLoopManualClock, TimersFireOnlyWhenTheClockIsAdvancedPastThem) {
  ManualClock clock;
  EventLoop loop(clock);
  int fired = 0;
  Timer timer(loop, [&] { ++fired; });
  timer.arm(loop.now() + 1h);
  const auto started = std::chrono::steady_clock::now();
  loop.run_once(1ms);
  EXPECT_EQ(fired, 0);
  clock.advance(1h - 1ms);
  loop.run_once(1ms);
  EXPECT_EQ(fired, 0) << "a millisecond early";
  clock.advance(1ms);
  loop.run_once(1000ms);  // due: the wait does not block
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(loop.now(), clock.now());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 500ms) << "an hour took no real time";
}

TEST(EventLoopManualClock, BusyPollIsBoundedInRealTimeWhileTheClockStandsStill) {
  ManualClock clock;
  EventLoop loop(clock);
  loop.set_busy_poll(std::chrono::microseconds(2000));
  const auto started = std::chrono::steady_clock::now();
  loop.run_once(5ms);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1000ms);
}

}  // namespace
}  // namespace rtether::io
