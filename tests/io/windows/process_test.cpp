// Child processes on Windows, run under Wine: argv through CreateProcessW
// and the child's C runtime, exit codes, stdout and stderr captured apart,
// a missing program, time limits, cancellation, kill() and stop(), and
// rtether's job object (a child's end takes the children it started with
// io::spawn along, not those it started itself). The children are this test executable itself, told
// what to do by RTETHER_PROCESS_TEST_CHILD (read before main), so the test
// needs no other Windows program.
#include "io/process.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <io.h>
#include <windows.h>
// After windows.h, which it needs.
#include <shellapi.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "io/windows/win32_error.hpp"

namespace rtether::io {
namespace {

using namespace std::chrono_literals;

constexpr const char* kChildMode = "RTETHER_PROCESS_TEST_CHILD";

std::string self_path() {
  wchar_t path[MAX_PATH];
  DWORD length = ::GetModuleFileNameW(nullptr, path, MAX_PATH);
  return narrow(std::wstring_view(path, length));
}

// What a child does, chosen by kChildMode: "echo" prints each argument
// CommandLineToArgvW finds in brackets, one a line; "exit:N" writes "out" and "err" and exits N;
// "sleep" sleeps a minute; "parent" starts a "sleep" child with io::spawn,
// prints its pid and sleeps a minute; "raw-parent" does the same with a
// plain CreateProcessW, as adb starts its server.
[[noreturn]] void be_child(const std::string& mode) {
  ::SetEnvironmentVariableA(kChildMode, nullptr);
  ::_setmode(::_fileno(stdout), _O_BINARY);
  if (mode == "echo") {
    int count = 0;
    wchar_t** args = ::CommandLineToArgvW(::GetCommandLineW(), &count);
    for (int i = 1; i < count; ++i) std::printf("[%s]\n", narrow(args[i]).c_str());
    ::LocalFree(args);
  } else if (mode.starts_with("exit:")) {
    std::fputs("out", stdout);
    std::fputs("err", stderr);
    std::fflush(nullptr);
    std::exit(std::atoi(mode.c_str() + 5));
  } else if (mode == "parent") {
    ::SetEnvironmentVariableA(kChildMode, "sleep");
    SpawnResult spawned = spawn(SpawnOptions{{self_path()}, {}, false, {}});
    std::printf("%lld\n", static_cast<long long>(spawned.process.pid()));
    std::fflush(stdout);
    ::Sleep(60000);
  } else if (mode == "raw-parent") {
    ::SetEnvironmentVariableA(kChildMode, "sleep");
    std::wstring path = widen(self_path());
    STARTUPINFOW startup{};
    startup.cb = sizeof startup;
    PROCESS_INFORMATION started{};
    ::CreateProcessW(path.c_str(), nullptr, nullptr, nullptr, FALSE, 0, nullptr, nullptr, &startup,
                     &started);
    std::printf("%lu\n", started.dwProcessId);
    std::fflush(stdout);
    ::Sleep(60000);
  } else {
    ::Sleep(60000);
  }
  std::fflush(nullptr);
  std::exit(0);
}

const bool kIsChild = [] {
  const char* mode = std::getenv(kChildMode);
  if (mode != nullptr && *mode != '\0') be_child(mode);
  return false;
}();

// Runs this executable as a child in `mode` (set in the environment the
// child inherits, for the length of the call).
ProcessResult run_child(const std::string& mode, std::vector<std::string> args,
                        std::chrono::milliseconds timeout = 30s,
                        const std::atomic<bool>* cancel = nullptr) {
  ::SetEnvironmentVariableA(kChildMode, mode.c_str());
  args.insert(args.begin(), self_path());
  ProcessResult result = run_process(args, timeout, cancel);
  ::SetEnvironmentVariableA(kChildMode, nullptr);
  return result;
}

TEST(WindowsProcess, ArgvReachesTheChildAsGiven) {
  std::vector<std::string> args{"plain",
                                "with space",
                                "",
                                "quote\"inside",
                                "trailing\\",
                                "C:\\Program Files\\x\\",
                                "a\\\\\"b",
                                "tab\tand\nline",
                                "\xc3\xbc"
                                "n"
                                "\xc3\xaf"
                                "c"
                                "\xc3\xb6"
                                "d"
                                "\xc3\xa9"};
  auto result = run_child("echo", args);
  ASSERT_TRUE(result.succeeded()) << result.spawn_error.message() << " " << result.err;
  std::string expected;
  for (const auto& arg : args) expected += "[" + arg + "]\n";
  EXPECT_EQ(result.out, expected);
}

TEST(WindowsProcess, CapturesStdoutAndStderrApartAndTheExitCode) {
  auto result = run_child("exit:3", {});
  EXPECT_FALSE(result.spawn_error);
  EXPECT_EQ(result.status, ExitStatus::exited(3));
  EXPECT_EQ(result.out, "out");
  EXPECT_EQ(result.err, "err");
  EXPECT_FALSE(result.succeeded());
  EXPECT_EQ(run_child("exit:0", {}).status, ExitStatus::exited(0));
}

TEST(WindowsProcess, AMissingProgramIsASpawnError) {
  auto missing = run_process({"C:\\nonexistent\\adb"}, 10s);
  EXPECT_EQ(missing.spawn_error, std::errc::no_such_file_or_directory);
  EXPECT_FALSE(missing.started);
  EXPECT_EQ(run_process({"no-such-program-rtether-test"}, 10s).spawn_error,
            std::errc::no_such_file_or_directory);
  SpawnResult spawned = spawn(SpawnOptions{{"no-such-program-rtether-test"}, {}, false, {}});
  EXPECT_EQ(spawned.failure.rfind("cannot run no-such-program-rtether-test: ", 0), 0u)
      << spawned.failure;
}

TEST(WindowsProcess, WhatNeedsForkOrMoreDescriptorsIsRefused) {
  SpawnOptions with_step{{self_path()}, {}, false, [](std::string&) { return true; }};
  SpawnResult stepped = spawn(with_step);
  EXPECT_FALSE(stepped.process.started());
  EXPECT_EQ(stepped.error, std::errc::function_not_supported);
  SpawnResult fourth = spawn(SpawnOptions{{self_path()}, {{3, 1}}, false, {}});
  EXPECT_FALSE(fourth.process.started());
  EXPECT_EQ(fourth.error, std::errc::invalid_argument);
  SpawnResult closed = spawn(SpawnOptions{{self_path()}, {{1, 1000}}, false, {}});
  EXPECT_FALSE(closed.process.started());
  EXPECT_EQ(closed.error, std::errc::bad_file_descriptor);
}

TEST(WindowsProcess, SearchesPathForABareNameWithExeAppended) {
  // cmd.exe is in C:\windows\system32, on Wine's and Windows' PATH.
  auto result = run_process({"cmd", "/c", "exit 4"}, 30s);
  EXPECT_FALSE(result.spawn_error) << result.spawn_error.message();
  EXPECT_EQ(result.status, ExitStatus::exited(4));
}

TEST(WindowsProcess, ATimeLimitKillsTheChildAsSigkillWould) {
  auto start = std::chrono::steady_clock::now();
  auto result = run_child("sleep", {}, 300ms);
  EXPECT_TRUE(result.timed_out);
  EXPECT_EQ(result.status, ExitStatus::exited(128 + 9));
  EXPECT_EQ(result.status->shell_code(), 137);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(WindowsProcess, CancellationKillsTheChild) {
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(300ms);
    cancel = true;
  });
  auto start = std::chrono::steady_clock::now();
  auto result = run_child("sleep", {}, 30s, &cancel);
  canceller.join();
  EXPECT_TRUE(result.cancelled);
  EXPECT_TRUE(result.started);
  EXPECT_FALSE(result.succeeded());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  std::atomic<bool> pending{true};
  auto nothing = run_child("sleep", {}, 30s, &pending);
  EXPECT_TRUE(nothing.cancelled);
  EXPECT_FALSE(nothing.started);
}

TEST(WindowsProcess, KillAndStopEndARunningChild) {
  ::SetEnvironmentVariableA(kChildMode, "sleep");
  SpawnResult first = spawn(SpawnOptions{{self_path()}, {}, true, {}});
  SpawnResult second = spawn(SpawnOptions{{self_path()}, {}, false, {}});
  ::SetEnvironmentVariableA(kChildMode, nullptr);
  ASSERT_TRUE(first.process.started()) << first.failure;
  ASSERT_TRUE(second.process.started()) << second.failure;
  EXPECT_GT(first.process.pid(), 0);
  EXPECT_FALSE(first.process.wait_for(100ms));
  first.process.kill(15);
  EXPECT_TRUE(first.process.wait_for(10s));
  EXPECT_EQ(first.process.status(), ExitStatus::exited(128 + 15));
  EXPECT_FALSE(second.process.stop(1s));  // it had to be terminated
  EXPECT_FALSE(second.process.running());
}

// A child in `mode` ("parent" or "raw-parent") and the grandchild it
// started, whose pid it prints on a pipe of ours.
struct Family {
  Process parent;
  HANDLE grandchild = nullptr;
};
Family start_family(const char* mode) {
  Family family;
  HANDLE read_end = nullptr, write_end = nullptr;
  if (!::CreatePipe(&read_end, &write_end, nullptr, 0)) return family;
  int write_fd = ::_open_osfhandle(reinterpret_cast<intptr_t>(write_end), 0);
  ::SetEnvironmentVariableA(kChildMode, mode);
  family.parent = spawn(SpawnOptions{{self_path()}, {{1, write_fd}}, false, {}}).process;
  ::SetEnvironmentVariableA(kChildMode, nullptr);
  ::_close(write_fd);
  std::string line;
  char c = 0;
  DWORD got = 0;
  while (line.find('\n') == std::string::npos && ::ReadFile(read_end, &c, 1, &got, nullptr) &&
         got == 1)
    line += c;
  ::CloseHandle(read_end);
  DWORD pid = static_cast<DWORD>(std::strtoul(line.c_str(), nullptr, 10));
  if (pid != 0) family.grandchild = ::OpenProcess(SYNCHRONIZE | PROCESS_TERMINATE, FALSE, pid);
  return family;
}

TEST(WindowsProcess, AChildsEndEndsTheChildrenItStartedThroughSpawn) {
  Family family = start_family("parent");
  ASSERT_TRUE(family.parent.started());
  ASSERT_NE(family.grandchild, nullptr);
  EXPECT_EQ(::WaitForSingleObject(family.grandchild, 200), static_cast<DWORD>(WAIT_TIMEOUT));
  // As if rtether were killed: its job handle closes with it.
  family.parent.kill(9);
  family.parent.wait();
  EXPECT_EQ(::WaitForSingleObject(family.grandchild, 10000), WAIT_OBJECT_0);
  ::CloseHandle(family.grandchild);
}

TEST(WindowsProcess, AProgramAChildStartsItselfIsLeftOutOfTheJob) {
  // adb's server, started by an adb client rtether ran, outlives both.
  Family family = start_family("raw-parent");
  ASSERT_TRUE(family.parent.started());
  ASSERT_NE(family.grandchild, nullptr);
  family.parent.kill(9);
  family.parent.wait();
  EXPECT_EQ(::WaitForSingleObject(family.grandchild, 500), static_cast<DWORD>(WAIT_TIMEOUT));
  ::TerminateProcess(family.grandchild, 1);
  ::CloseHandle(family.grandchild);
}

}  // namespace
}  // namespace rtether::io
