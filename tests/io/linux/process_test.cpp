// Child processes: wait statuses decoded and described, spawn's
// descriptors, process group, signal reset, before_exec step and failures
// reported as values, Process waits and stops, and run_process's output
// capture, exit codes, time limits, cancellation and a child that leaves a
// daemon holding its pipes.
#include "io/process.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <thread>

#include "io/socket.hpp"

namespace rtether::io {
namespace {

using namespace std::chrono_literals;

TEST(RunProcess, CapturesStdoutAndStderrApartAndTheExitCode) {
  auto result = run_process({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, 10s);
  EXPECT_FALSE(result.spawn_error);
  EXPECT_EQ(result.status, ExitStatus::exited(3));
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
  EXPECT_EQ(run_process({"/nonexistent/adb"}, 10s).spawn_error, std::errc::no_such_file_or_directory);
  EXPECT_EQ(run_process({"no-such-program-rtether-test"}, 10s).spawn_error,
            std::errc::no_such_file_or_directory);
}

TEST(RunProcess, ATimeLimitKillsTheChild) {
  auto start = std::chrono::steady_clock::now();
  auto result = run_process({"/bin/sleep", "30"}, 300ms);
  EXPECT_TRUE(result.timed_out);
  EXPECT_EQ(result.status, ExitStatus::signalled(SIGKILL));
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
  EXPECT_EQ(result.status, ExitStatus::signalled(SIGKILL));
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

TEST(RunProcess, AFailedExitIsNotSuccess) {
  auto result = run_process({"/bin/sh", "-c", "exit 1"}, 10s);
  EXPECT_TRUE(result.started);
  EXPECT_FALSE(result.succeeded());
  EXPECT_EQ(result.status, ExitStatus::exited(1));
}

// --- ExitStatus ---------------------------------------------------------------

TEST(ExitStatus, DecodesAnExitCodeFromAWaitStatus) {
  auto status = ExitStatus::from_wait_status(W_EXITCODE(3, 0));
  EXPECT_EQ(status.kind(), ExitStatus::Kind::Exited);
  EXPECT_EQ(status.code(), 3);
  EXPECT_EQ(status.signal(), 0);
  EXPECT_FALSE(status.success());
  EXPECT_EQ(status.shell_code(), 3);
  EXPECT_EQ(status.description(), "exit status 3");
  EXPECT_TRUE(ExitStatus::from_wait_status(W_EXITCODE(0, 0)).success());
}

TEST(ExitStatus, DecodesASignalFromAWaitStatus) {
  auto status = ExitStatus::from_wait_status(SIGKILL);
  EXPECT_EQ(status.kind(), ExitStatus::Kind::Signalled);
  EXPECT_EQ(status.signal(), SIGKILL);
  EXPECT_EQ(status.code(), -1);
  EXPECT_FALSE(status.success());
  EXPECT_EQ(status.shell_code(), 128 + SIGKILL);  // as sh's $? shows it
  EXPECT_EQ(status.description(), "signal SIGKILL (Killed)");
  // A core dump flag does not change the signal.
  EXPECT_EQ(ExitStatus::from_wait_status(SIGSEGV | WCOREFLAG), ExitStatus::signalled(SIGSEGV));
}

TEST(ExitStatus, ASignalWithoutANameIsDescribedByNumber) {
  EXPECT_EQ(ExitStatus::signalled(SIGTERM).description(), "signal SIGTERM (Terminated)");
  EXPECT_EQ(ExitStatus::signalled(100).description(), "signal 100");
}

// --- spawn and Process ----------------------------------------------------------

TEST(Spawn, RedirectsAndKeepsTheDescriptorsItIsGiven) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  Fd read_end(fds[0]), write_end(fds[1]);
  SpawnOptions options;
  // Written through fd 1 and through the kept descriptor under its own number.
  options.argv = {"/bin/sh", "-c", "printf out; printf kept >&" + std::to_string(fds[1])};
  options.redirects = {{STDOUT_FILENO, write_end.get()}, {write_end.get(), write_end.get()}};
  SpawnResult spawned = spawn(options);
  ASSERT_TRUE(spawned.process.started()) << spawned.failure;
  write_end.reset();
  EXPECT_EQ(spawned.process.wait(), ExitStatus::exited(0));
  char buffer[64];
  ssize_t got = ::read(read_end.get(), buffer, sizeof buffer);
  EXPECT_EQ(std::string(buffer, static_cast<std::size_t>(std::max<ssize_t>(got, 0))), "outkept");
}

TEST(Spawn, ADescriptorNotNamedIsNotInherited) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  Fd read_end(fds[0]), write_end(fds[1]);
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c", "test ! -e /proc/self/fd/" + std::to_string(fds[1])};
  SpawnResult spawned = spawn(options);
  ASSERT_TRUE(spawned.process.started()) << spawned.failure;
  EXPECT_EQ(spawned.process.wait(), ExitStatus::exited(0));
}

TEST(Spawn, AMissingProgramIsAFailureValueNotAChild) {
  SpawnOptions options;
  options.argv = {"/nonexistent/program"};
  SpawnResult spawned = spawn(options);
  EXPECT_FALSE(spawned.process.started());
  EXPECT_EQ(spawned.error, std::errc::no_such_file_or_directory);
  EXPECT_EQ(spawned.failure, "cannot run /nonexistent/program: No such file or directory");
  options.argv = {"no-such-program-rtether-test"};
  EXPECT_EQ(spawn(options).error, std::errc::no_such_file_or_directory);
}

TEST(Spawn, AFileWithoutExecutePermissionIsEacces) {
  std::string path = "/tmp/rtether-process-test-" + std::to_string(::getpid());
  { std::ofstream(path) << "#!/bin/sh\n"; }
  ::chmod(path.c_str(), 0644);
  SpawnOptions options;
  options.argv = {path};
  SpawnResult spawned = spawn(options);
  ::unlink(path.c_str());
  EXPECT_FALSE(spawned.process.started());
  EXPECT_EQ(spawned.error, std::errc::permission_denied);
}

TEST(Spawn, ABeforeExecFailureIsReportedWithItsMessage) {
  SpawnOptions options;
  options.argv = {"/bin/true"};
  options.before_exec = [](std::string& error) {
    errno = EPERM;
    error = "cannot enter network namespace 'x': Operation not permitted";
    return false;
  };
  SpawnResult spawned = spawn(options);
  EXPECT_FALSE(spawned.process.started());
  EXPECT_EQ(spawned.error, std::errc::operation_not_permitted);
  EXPECT_EQ(spawned.failure, "cannot enter network namespace 'x': Operation not permitted");
}

TEST(Spawn, TheBeforeExecStepRunsInTheChild) {
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c", "test \"$RTETHER_PROCESS_TEST\" = child"};
  options.before_exec = [](std::string&) {
    return ::setenv("RTETHER_PROCESS_TEST", "child", 1) == 0;
  };
  SpawnResult spawned = spawn(options);
  ASSERT_TRUE(spawned.process.started()) << spawned.failure;
  EXPECT_EQ(spawned.process.wait(), ExitStatus::exited(0));
  EXPECT_EQ(std::getenv("RTETHER_PROCESS_TEST"), nullptr);
}

TEST(Spawn, IgnoredSignalsAreBackToTheirDefaultsInTheChild) {
  struct sigaction ignore {}, previous {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ASSERT_EQ(::sigaction(SIGINT, &ignore, &previous), 0);
  auto result = run_process({"/bin/sh", "-c", "grep '^SigIgn' /proc/self/status"}, 10s);
  ::sigaction(SIGINT, &previous, nullptr);
  // sh itself ignores nothing without a trap; SIGINT would be bit 2.
  EXPECT_EQ(result.out, "SigIgn:\t0000000000000000\n");
}

TEST(Spawn, AnOwnProcessGroupExistsWhenSpawnReturns) {
  SpawnOptions options;
  options.argv = {"/bin/sleep", "30"};
  options.own_process_group = true;
  SpawnResult spawned = spawn(options);
  ASSERT_TRUE(spawned.process.started()) << spawned.failure;
  EXPECT_EQ(::getpgid(spawned.process.pid()), spawned.process.pid());
}

TEST(Process, StopEndsAChildThatHonoursSigterm) {
  SpawnOptions options;
  options.argv = {"/bin/sleep", "30"};
  SpawnResult spawned = spawn(options);
  ASSERT_TRUE(spawned.process.started());
  EXPECT_TRUE(spawned.process.running());
  EXPECT_TRUE(spawned.process.stop(5s));
  EXPECT_FALSE(spawned.process.running());
  EXPECT_EQ(spawned.process.status(), ExitStatus::signalled(SIGTERM));
  EXPECT_TRUE(spawned.process.stop(5s));  // already ended: nothing more to do
}

TEST(Process, StopKillsAChildThatIgnoresSigterm) {
  SpawnOptions options;
  // exec keeps the ignored disposition the shell's trap sets.
  options.argv = {"/bin/sh", "-c", "trap '' TERM; echo ready; exec sleep 30"};
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  Fd read_end(fds[0]), write_end(fds[1]);
  options.redirects = {{STDOUT_FILENO, write_end.get()}};
  SpawnResult spawned = spawn(options);
  ASSERT_TRUE(spawned.process.started());
  write_end.reset();
  char buffer[16];
  ASSERT_GT(::read(read_end.get(), buffer, sizeof buffer), 0);  // the trap is set
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(spawned.process.stop(300ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms);
  EXPECT_EQ(spawned.process.status(), ExitStatus::signalled(SIGKILL));
}

TEST(Process, WaitForGivesUpAfterItsTimeoutAndSeesTheEndLater) {
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c", "sleep 0.3; exit 4"};
  SpawnResult spawned = spawn(options);
  ASSERT_TRUE(spawned.process.started());
  EXPECT_FALSE(spawned.process.wait_for(10ms));
  EXPECT_FALSE(spawned.process.poll());
  EXPECT_TRUE(spawned.process.wait_for(10s));
  EXPECT_EQ(spawned.process.status(), ExitStatus::exited(4));
}

TEST(Process, DestroyingARunningChildKillsAndReapsIt) {
  pid_t pid = -1;
  {
    SpawnOptions options;
    options.argv = {"/bin/sleep", "30"};
    SpawnResult spawned = spawn(options);
    ASSERT_TRUE(spawned.process.started());
    pid = spawned.process.pid();
    Process moved = std::move(spawned.process);
    EXPECT_FALSE(spawned.process.started());
    EXPECT_TRUE(moved.running());
  }
  // Reaped: no child of ours with that pid is left, not even a zombie.
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

}  // namespace
}  // namespace rtether::io
