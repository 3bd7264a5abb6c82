// DeviceWorker with a fake adb (a slow failing script): what the board
// says when a device goes away, or comes back, while its start is queued.
#include "cli/device_worker.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

namespace rtether::cli {
namespace {

using namespace std::chrono_literals;

class SlowAdb : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/rtether-worker-adb-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    adb_ = dir_ + "/adb";
    {
      std::ofstream script(adb_);
      script << "#!/bin/sh\necho \"$*\" >> '" << dir_ << "/calls'\nsleep 0.4\n"
             << "echo 'adb: error: device went away' >&2\nexit 1\n";
    }
    ::chmod(adb_.c_str(), 0755);
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  int calls() {
    std::ifstream in(dir_ + "/calls");
    int count = 0;
    for (std::string line; std::getline(in, line);) ++count;
    return count;
  }
  // Waits until `count` adb runs have finished (each takes 0.4 s).
  void wait_for_calls(int count) {
    for (int i = 0; i < 100 && calls() < count; ++i) std::this_thread::sleep_for(50ms);
    std::this_thread::sleep_for(600ms);
  }

  std::string dir_, adb_;
};

TEST_F(SlowAdb, AStartFinishingAfterTheDeviceWentAwayLeavesItGone) {
  DeviceBoard board;
  DeviceWorker worker(adb_, dir_ + "/gnirehtet.apk", adb::StartOptions{}, board);
  worker.start_device("X", 31416);  // keeps the worker busy for 0.4 s
  worker.start_device("A", 31416);  // queued behind it
  EXPECT_EQ(board.snapshot().at("A"), "waiting to start");
  board.set("A", DeviceBoard::kGone);  // unplugged before its turn
  wait_for_calls(2);
  auto states = board.snapshot();
  EXPECT_EQ(states.at("A"), "gone");
  EXPECT_EQ(states.at("X").rfind("failed: ", 0), 0u) << states.at("X");
  worker.shutdown();
}

TEST_F(SlowAdb, ADeviceBackWhileItsStartIsQueuedSaysWaitingAgain) {
  DeviceBoard board;
  DeviceWorker worker(adb_, dir_ + "/gnirehtet.apk", adb::StartOptions{}, board);
  worker.start_device("X", 31416);
  worker.start_device("B", 31416);
  board.set("B", DeviceBoard::kGone);
  worker.start_device("B", 31416);  // back again: still one job, but waiting
  EXPECT_EQ(board.snapshot().at("B"), "waiting to start");
  wait_for_calls(2);
  EXPECT_EQ(board.snapshot().at("B").rfind("failed: ", 0), 0u) << board.snapshot().at("B");
  EXPECT_EQ(calls(), 2);  // X once, B once
  worker.shutdown();
}

}  // namespace
}  // namespace rtether::cli
