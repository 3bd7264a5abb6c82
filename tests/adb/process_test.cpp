// run_process: output capture, exit codes, missing programs, time limits,
// cancellation, and a child that leaves a daemon holding its pipes.
#include "adb/process.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

namespace rtether::adb {
namespace {

using namespace std::chrono_literals;

TEST(RunProcess, CapturesStdoutAndStderrApartAndTheExitCode) {
  auto result = run_process({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, 10s);
  EXPECT_EQ(result.spawn_error, 0);
  EXPECT_EQ(result.exit_status, 3);
  EXPECT_EQ(result.out, "out\n");
  EXPECT_EQ(result.err, "err\n");
  EXPECT_FALSE(result.succeeded());
}

TEST(RunProcess, SearchesPathForABareName) {
  auto result = run_process({"sh", "-c", "printf ok"}, 10s);
  EXPECT_TRUE(result.succeeded());
  EXPECT_EQ(result.out, "ok");
}

TEST(RunProcess, AMissingProgramIsASpawnError) {
  EXPECT_EQ(run_process({"/nonexistent/adb"}, 10s).spawn_error, ENOENT);
  EXPECT_EQ(run_process({"no-such-program-rtether-test"}, 10s).spawn_error, ENOENT);
}

TEST(RunProcess, ATimeLimitKillsTheChild) {
  auto start = std::chrono::steady_clock::now();
  auto result = run_process({"/bin/sleep", "30"}, 300ms);
  EXPECT_TRUE(result.timed_out);
  EXPECT_EQ(result.exit_status, 128 + 9);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(RunProcess, CancellationKillsTheChild) {
  std::atomic<bool> cancel{false};
  auto start = std::chrono::steady_clock::now();
  std::thread canceller([&] {
    std::this_thread::sleep_for(200ms);
    cancel = true;
  });
  auto result = run_process({"/bin/sleep", "30"}, 30s, &cancel);
  canceller.join();
  EXPECT_TRUE(result.cancelled);
  EXPECT_TRUE(result.started);
  EXPECT_EQ(result.exit_status, 128 + 9);
  EXPECT_FALSE(result.succeeded());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(RunProcess, APendingCancelSpawnsNothing) {
  std::atomic<bool> cancel{true};
  auto result = run_process({"/bin/sleep", "30"}, 30s, &cancel);
  EXPECT_TRUE(result.cancelled);
  EXPECT_FALSE(result.started);
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  result = run_process({"/bin/sleep", "30"}, 30s, nullptr, fds[0]);
  EXPECT_TRUE(result.cancelled);
  EXPECT_FALSE(result.started);
  ::close(fds[0]);
  ::close(fds[1]);
}

// A readable cancel fd (run's signalfd on Ctrl+C) kills the child at once,
// and is left unread for its owner.
TEST(RunProcess, AReadableCancelFdKillsTheChild) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  auto start = std::chrono::steady_clock::now();
  std::thread canceller([&] {
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(::write(fds[1], "x", 1), 1);
  });
  auto result = run_process({"/bin/sleep", "30"}, 30s, nullptr, fds[0]);
  canceller.join();
  EXPECT_TRUE(result.cancelled);
  EXPECT_TRUE(result.started);
  EXPECT_FALSE(result.succeeded());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_TRUE(fd_readable(fds[0]));
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(RunProcess, AnUnreadableCancelFdChangesNothing) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  auto result = run_process({"sh", "-c", "printf ok"}, 10s, nullptr, fds[0]);
  EXPECT_TRUE(result.succeeded());
  EXPECT_EQ(result.out, "ok");
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(RunProcess, ADaemonKeepingThePipesOpenDoesNotHoldTheCaller) {
  auto start = std::chrono::steady_clock::now();
  // The child exits at once; its background sleep inherits stdout and stderr.
  auto result = run_process({"/bin/sh", "-c", "sleep 5 & echo started"}, 20s);
  EXPECT_TRUE(result.succeeded());
  EXPECT_EQ(result.out, "started\n");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

// One-shot commands leave adb in rtether's process group (the terminal's
// Ctrl+C ends both); run/autorun put it in one of its own.
TEST(RunProcess, OwnProcessGroupOnlyWhenAsked) {
  const std::vector<std::string> show = {"/bin/sh", "-c",
                                         "echo $$; cut -d' ' -f5 /proc/self/stat"};
  auto shared = run_process(show, 10s);
  ASSERT_TRUE(shared.succeeded());
  auto pid_end = shared.out.find('\n');
  EXPECT_EQ(std::stol(shared.out.substr(pid_end + 1)), static_cast<long>(::getpgrp()));
  auto own = run_process(show, 10s, nullptr, -1, true);
  ASSERT_TRUE(own.succeeded());
  pid_end = own.out.find('\n');
  EXPECT_EQ(std::stol(own.out.substr(pid_end + 1)), std::stol(own.out.substr(0, pid_end)));
}

TEST(RunProcess, TheChildHasNoBlockedSignals) {
  sigset_t blocked, previous;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGINT);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &blocked, &previous), 0);
  auto result = run_process({"/bin/sh", "-c", "grep '^SigBlk' /proc/self/status"}, 10s);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  EXPECT_EQ(result.out, "SigBlk:\t0000000000000000\n");
}

}  // namespace
}  // namespace rtether::adb
