// Running an external program (the adb client) with a time limit: its
// stdout and stderr captured, signals reset to their defaults and unblocked
// in the child (the caller may have blocked SIGINT for a signalfd), and, on
// request, the child in its own process group so a terminal's Ctrl+C
// reaches rtether only, which then decides what to run (`run` stops the
// device on Ctrl+C). Left in rtether's group (the one-shot commands), adb
// gets the terminal's Ctrl+C with rtether and ends with it.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

namespace rtether::adb {

struct ProcessResult {
  int spawn_error = 0;   // errno when the program could not be started
  int exit_status = -1;  // exit code, or 128 + signal
  bool timed_out = false;
  bool cancelled = false;
  bool started = false;  // the child was spawned (a cancel may come before)
  std::string out;
  std::string err;

  bool succeeded() const {
    return spawn_error == 0 && exit_status == 0 && !timed_out && !cancelled;
  }
};

// argv[0] is looked up in PATH unless it holds a '/'. Blocks until the child
// ends, `timeout` passes, `*cancel` becomes true (checked every 100 ms) or
// `cancel_fd` (e.g. a signalfd; never read here) becomes readable; then the
// child is killed (SIGKILL) and reaped. A cancel already pending spawns
// nothing.
ProcessResult run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const std::atomic<bool>* cancel = nullptr, int cancel_fd = -1,
                          bool own_process_group = false);

// True when `fd` (>= 0) is readable right now.
bool fd_readable(int fd);

}  // namespace rtether::adb
