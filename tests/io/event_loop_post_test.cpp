// EventLoop::post: callbacks from other threads run on the loop's thread, in
// the order each thread posted them, and a post wakes a loop that waits.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "io/event_loop.hpp"

namespace rtether::io {
namespace {

using namespace std::chrono_literals;

TEST(EventLoopPost, APostFromAnotherThreadWakesAWaitingLoop) {
  EventLoop loop;
  std::thread::id ran_on;
  std::thread poster([&] {
    std::this_thread::sleep_for(50ms);
    loop.post([&] { ran_on = std::this_thread::get_id(); });
  });
  const auto start = std::chrono::steady_clock::now();
  // Without the wake this waits the whole 20 s: nothing else is registered.
  for (int i = 0; i < 10 && ran_on == std::thread::id(); ++i) loop.run_once(20s);
  const auto waited = std::chrono::steady_clock::now() - start;
  poster.join();
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  EXPECT_LT(waited, 5s);
}

TEST(EventLoopPost, APostDuringTheBusyPollIsNotLostToTheWaitAfterIt) {
  EventLoop loop;
  // The post lands inside the spin: a poll of it takes the wake and reports
  // nothing, so the blocking wait after it must not sleep its 20 s.
  loop.set_busy_poll(300ms);
  bool ran = false;
  std::thread poster([&] {
    std::this_thread::sleep_for(30ms);
    loop.post([&] { ran = true; });
  });
  const auto start = std::chrono::steady_clock::now();
  loop.run_once(20s);
  const auto waited = std::chrono::steady_clock::now() - start;
  poster.join();
  EXPECT_TRUE(ran);
  EXPECT_LT(waited, 5s);
}

TEST(EventLoopPost, CallbacksOfManyThreadsAllRunInEachThreadsOrder) {
  EventLoop loop;
  constexpr int kThreads = 4;
  constexpr int kEach = 2000;
  std::vector<int> last(kThreads, -1);
  int out_of_order = 0;
  int ran = 0;
  std::vector<std::thread> posters;
  for (int t = 0; t < kThreads; ++t) {
    posters.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        loop.post([&, t, i] {
          if (i != last[t] + 1) ++out_of_order;
          last[t] = i;
          ++ran;
        });
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (ran < kThreads * kEach && std::chrono::steady_clock::now() < deadline)
    loop.run_once(100ms);
  for (auto& poster : posters) poster.join();
  loop.run_once(0ms);
  EXPECT_EQ(ran, kThreads * kEach);
  EXPECT_EQ(out_of_order, 0);
}

TEST(EventLoopPost, APostFromTheLoopsOwnThreadRunsOnTheNextTurn) {
  EventLoop loop;
  int ran = 0;
  loop.post([&] {
    ++ran;
    loop.post([&] { ++ran; });  // queued while the first batch runs
  });
  EXPECT_EQ(ran, 0);
  loop.run_once(1s);
  EXPECT_EQ(ran, 1);
  const auto start = std::chrono::steady_clock::now();
  loop.run_once(5s);
  EXPECT_EQ(ran, 2);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(EventLoopPost, AnotherThreadStopsARunningLoopThroughAPost) {
  EventLoop loop;
  std::atomic<bool> returned{false};
  std::thread runner([&] {
    loop.run();
    returned = true;
  });
  loop.post([&loop] { loop.stop(); });
  runner.join();
  EXPECT_TRUE(returned);
}

}  // namespace
}  // namespace rtether::io
