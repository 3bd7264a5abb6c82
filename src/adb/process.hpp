// Running an external program (the adb client) with a time limit: its
// stdout and stderr captured, signals reset to their defaults and unblocked
// in the child (the caller may have blocked SIGINT for a signalfd), and the
// child in its own process group so a terminal's Ctrl+C reaches rtether,
// which then decides what to run (`run` stops the device on Ctrl+C).
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
  std::string out;
  std::string err;

  bool succeeded() const {
    return spawn_error == 0 && exit_status == 0 && !timed_out && !cancelled;
  }
};

// argv[0] is looked up in PATH unless it holds a '/'. Blocks until the child
// ends, `timeout` passes or `*cancel` becomes true (checked every 100 ms);
// then the child is killed (SIGKILL) and reaped.
ProcessResult run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const std::atomic<bool>* cancel = nullptr);

}  // namespace rtether::adb
