// SignalWatcher on Windows, under Wine: the console control handler it
// installs, called from a thread as the system calls it (a program whose
// output is a pipe has no console under Wine, so GenerateConsoleCtrlEvent
// cannot reach it; the e2e tests deliver Ctrl+C through Wine's SIGINT):
// Ctrl+C is SIGINT and Ctrl+Break SIGTERM through the loop, a console
// closing is SIGTERM with kShutdownGrace to shut down in, the watcher's
// fd is readable while one is pending (what run_process's cancel_fd polls),
// a signal not watched (or no watcher) is left to the next handler, a
// Ctrl+C after pass_next_interrupt() ends the process with
// STATUS_CONTROL_C_EXIT, and there is one watcher at a time.
#include "io/signal_watcher.hpp"

#include <gtest/gtest.h>

#include <windows.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "io/process.hpp"
#include "io/process_setup.hpp"
#include "io/windows/console_events.hpp"
#include "io/windows/win32_error.hpp"

namespace rtether::io {
namespace {

using namespace std::chrono_literals;

constexpr const char* kChildMode = "RTETHER_SIGNAL_TEST_CHILD";

// The child of PassedCtrlCEndsTheProcess: a watcher that lets the next
// Ctrl+C through, then a Ctrl+C. Exits 3 if it survives.
const bool kIsChild = [] {
  const char* mode = std::getenv(kChildMode);
  if (mode == nullptr || *mode == '\0') return false;
  prepare_process();
  EventLoop loop;
  SignalWatcher watcher(loop, {SIGINT, SIGTERM}, [](int) {});
  watcher.pass_next_interrupt();
  std::thread([] { on_console_event(CTRL_C_EVENT); }).join();
  std::exit(3);
}();

// The handler's answer, given from a thread of its own as the system does.
BOOL deliver(DWORD event) {
  BOOL answer = FALSE;
  std::thread([&] { answer = on_console_event(event); }).join();
  return answer;
}

class SignalWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override { prepare_process(); }

  // Runs the loop until `count` signals came in or 5 s passed.
  void wait_for(std::size_t count) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (received_.size() < count && std::chrono::steady_clock::now() < deadline)
      loop_.run_once(50ms);
  }

  EventLoop loop_;
  std::vector<int> received_;
};

TEST_F(SignalWatcherTest, CtrlCIsSigintAndCtrlBreakIsSigterm) {
  SignalWatcher watcher(loop_, {SIGINT, SIGTERM}, [&](int signal) { received_.push_back(signal); });
  EXPECT_TRUE(deliver(CTRL_C_EVENT));
  wait_for(1);
  EXPECT_TRUE(deliver(CTRL_BREAK_EVENT));
  wait_for(2);
  EXPECT_EQ(received_, (std::vector<int>{SIGINT, SIGTERM}));
}

TEST_F(SignalWatcherTest, ClosingTheConsoleIsSigtermWithTimeToShutDown) {
  // The system ends the process once the handler returns from a close:
  // the handler holds on while the loop shuts down.
  SignalWatcher watcher(loop_, {SIGINT, SIGTERM}, [&](int signal) { received_.push_back(signal); });
  std::atomic<bool> returned{false};
  auto start = std::chrono::steady_clock::now();
  std::thread closer([&] {
    on_console_event(CTRL_CLOSE_EVENT);
    returned = true;
  });
  wait_for(1);
  EXPECT_EQ(received_, std::vector<int>{SIGTERM});
  EXPECT_FALSE(returned);
  closer.join();
  EXPECT_GE(std::chrono::steady_clock::now() - start, SignalWatcher::kShutdownGrace - 100ms);
}

TEST_F(SignalWatcherTest, APendingSignalMakesTheFdReadableUntilTheLoopTakesIt) {
  SignalWatcher watcher(loop_, {SIGINT, SIGTERM}, [&](int signal) { received_.push_back(signal); });
  EXPECT_FALSE(fd_readable(watcher.fd()));
  EXPECT_TRUE(deliver(CTRL_C_EVENT));
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!fd_readable(watcher.fd()) && std::chrono::steady_clock::now() < deadline) ::Sleep(10);
  EXPECT_TRUE(fd_readable(watcher.fd()));
  // run_process stops on it at once, spawning nothing.
  auto result = run_process({"cmd", "/c", "exit 0"}, 10s, nullptr, watcher.fd());
  EXPECT_TRUE(result.cancelled);
  EXPECT_FALSE(result.started);
  wait_for(1);
  EXPECT_EQ(received_, std::vector<int>{SIGINT});
  EXPECT_FALSE(fd_readable(watcher.fd()));
}

TEST_F(SignalWatcherTest, ASignalNotWatchedGoesToTheNextHandler) {
  {
    SignalWatcher watcher(loop_, {SIGINT}, [&](int signal) { received_.push_back(signal); });
    EXPECT_FALSE(deliver(CTRL_BREAK_EVENT));  // SIGTERM, not watched
    loop_.run_once(100ms);
  }
  EXPECT_FALSE(deliver(CTRL_C_EVENT));  // no watcher left
  EXPECT_TRUE(received_.empty());
}

TEST_F(SignalWatcherTest, ACtrlCLetThroughEndsTheProcessAsWindowsWould) {
  wchar_t path[MAX_PATH];
  DWORD length = ::GetModuleFileNameW(nullptr, path, MAX_PATH);
  ::SetEnvironmentVariableA(kChildMode, "1");
  auto result = run_process({narrow(std::wstring_view(path, length))}, 30s);
  ::SetEnvironmentVariableA(kChildMode, nullptr);
  ASSERT_TRUE(result.started) << result.spawn_error.message();
  EXPECT_EQ(result.status, ExitStatus::exited(static_cast<int>(STATUS_CONTROL_C_EXIT)));
  EXPECT_EQ(result.status->description(), "exit status 0xC000013A");
}

TEST_F(SignalWatcherTest, OneWatcherAtATime) {
  SignalWatcher first(loop_, {SIGINT}, [](int) {});
  EXPECT_THROW(SignalWatcher(loop_, {SIGINT}, [](int) {}), std::logic_error);
}

}  // namespace
}  // namespace rtether::io
