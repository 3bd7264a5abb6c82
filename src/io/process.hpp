// Child processes: one way to start a program (the adb client, `rtether
// shell`'s relay, client and command), wait for it with a time limit and
// say how it ended. The interface is the same on every OS; what differs is
// said here per OS (linux/process.cpp, windows/process.cpp).
//
// Linux: spawn() forks and execs. In the child, before exec: every signal back to
// its default action and none blocked (the caller may ignore SIGINT or
// block signals for a signalfd; the program must inherit neither), on
// request a process group of its own (a terminal's Ctrl+C then reaches
// rtether only, which decides what to do), the descriptors the caller
// names (everything else rtether opens is close-on-exec), and an optional
// step of the caller's (entering a network namespace). A program that
// cannot be run is reported to the parent through a close-on-exec pipe, so
// spawn() returns the errno of the failed exec instead of a child exiting
// 127. Children inherit the environment.
//
// Between fork and exec the child calls only async-signal-safe functions
// (the PATH search is prepared in the parent), so spawn() is safe from a
// threaded process; the caller's before_exec step is exempt, and may only
// be used from a single-threaded one.
//
// Windows: spawn() calls CreateProcessW with a command line quoted so that
// the child's CommandLineToArgvW (or C runtime) gets argv back
// (windows_command_line.hpp). Every child is put in one job object of
// rtether's with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE: when rtether ends, in
// any way, its children end too (JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK keeps
// their own children out of it, so the adb server that an adb client
// starts outlives rtether as it does on Linux). A "process group of its
// own" is CREATE_NEW_PROCESS_GROUP: the console's Ctrl+C reaches rtether
// only. Windows has no signals: kill(N) terminates the child
// (TerminateProcess) with exit code 128 + N, so shell_code() reads as on
// Linux, and stop() has no polite request to make (a Ctrl+Break would
// reach rtether's own console group), so it terminates at once. Only the
// standard descriptors 0-2 can be redirected (from C runtime descriptors),
// and before_exec is refused (there is no fork).
//
// run_process() builds on it for the adb client: output captured, a time
// limit and cancellation.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace rtether::io {

// The OS's number for a process (a pid_t on Linux, a process id on
// Windows).
using ProcessId = std::int64_t;

// How a child ended: decoded from a waitpid() status on Linux; on Windows
// always exited(GetExitCodeProcess's code).
class ExitStatus {
 public:
  enum class Kind { Exited, Signalled };

  static ExitStatus exited(int code) { return {Kind::Exited, code}; }
  static ExitStatus signalled(int signal) { return {Kind::Signalled, signal}; }
  static ExitStatus from_wait_status(int status);

  Kind kind() const { return kind_; }
  int code() const { return kind_ == Kind::Exited ? number_ : -1; }
  int signal() const { return kind_ == Kind::Signalled ? number_ : 0; }
  bool success() const { return kind_ == Kind::Exited && number_ == 0; }
  // As a POSIX shell's $? shows it: the exit code, or 128 + the signal.
  int shell_code() const { return kind_ == Kind::Exited ? number_ : 128 + number_; }
  // "exit status 3", "signal SIGKILL (Killed)".
  std::string description() const;

  friend bool operator==(const ExitStatus&, const ExitStatus&) = default;

 private:
  ExitStatus(Kind kind, int number) : kind_(kind), number_(number) {}
  Kind kind_;
  int number_;
};

struct SpawnOptions {
  // argv[0] is looked up in PATH unless it holds a '/' (on Windows also
  // '\\' or ':'; NAME.exe first, then NAME).
  std::vector<std::string> argv;
  // The child's descriptor `to` becomes a copy of the parent's `from`,
  // applied in order (as a shell applies redirections); to == from keeps
  // the parent's descriptor under its own number.
  struct Redirect {
    int to;
    int from;
  };
  std::vector<Redirect> redirects;
  bool own_process_group = false;
  // Runs in the child just before exec; false (with `error`) abandons the
  // start. Single-threaded callers only: see above.
  std::function<bool(std::string& error)> before_exec;
};

struct SpawnResult;
// Starts options.argv as described at the top of this file.
SpawnResult spawn(const SpawnOptions& options);

// A started child, reaped exactly once. Destroying one that still runs
// kills it (SIGKILL) and reaps it, so no child outlives its owner unseen.
class Process {
 public:
  Process() = default;
  ~Process();
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  ProcessId pid() const;
  bool started() const { return native_ != kNoProcess; }
  bool running() const { return started() && !status_; }
  // Set once the child has been reaped.
  const std::optional<ExitStatus>& status() const { return status_; }

  // Reaps the child if it has ended, without blocking; true once it has.
  bool poll();
  // Waits up to `timeout` for the child to end; true once it has.
  bool wait_for(std::chrono::milliseconds timeout);
  // Waits until the child ends.
  ExitStatus wait();
  // Sends `signal` to a running child (not to its process group).
  void kill(int signal) const;
  // SIGTERM, then SIGKILL if the child is still there after `grace`.
  // True when it ended by itself (or had already).
  bool stop(std::chrono::milliseconds grace);

 private:
  friend SpawnResult spawn(const SpawnOptions& options);
  static constexpr std::intptr_t kNoProcess = -1;
  explicit Process(std::intptr_t native) : native_(native) {}
  void reap_now();

  // The pid on Linux; the process HANDLE on Windows (waits and kills go
  // through it: a process id may be reused once the process is gone).
  std::intptr_t native_ = kNoProcess;
  std::optional<ExitStatus> status_;
};

struct SpawnResult {
  Process process;  // not started() on failure
  // The failed step's error: fork, exec (no such file, permission denied)
  // or before_exec; compared with std::errc conditions.
  std::error_code error;
  std::string failure;  // one readable line: "cannot run adb: No such file or directory"
};

struct ProcessResult {
  std::error_code spawn_error;  // set when the program could not be started
  std::optional<ExitStatus> status;  // how it ended, once started and reaped
  bool timed_out = false;
  bool cancelled = false;
  bool started = false;  // the child was spawned (a cancel may come before)
  std::string out;
  std::string err;

  bool succeeded() const {
    return !spawn_error && status && status->success() && !timed_out && !cancelled;
  }
};

// Runs argv with stdin from /dev/null (NUL) and stdout and stderr captured.
// Blocks until the child ends, `timeout` passes, `*cancel` becomes true
// (checked every 100 ms) or `cancel_fd` (SignalWatcher::fd(): a signalfd,
// or on Windows a socket; never read here) becomes readable; then the
// child is killed (SIGKILL) and reaped. A cancel already pending spawns
// nothing.
ProcessResult run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const std::atomic<bool>* cancel = nullptr, int cancel_fd = -1,
                          bool own_process_group = false);

// True when `fd` (>= 0; on Windows a socket) is readable right now.
bool fd_readable(int fd);

}  // namespace rtether::io
