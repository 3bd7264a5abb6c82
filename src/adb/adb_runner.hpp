// AdbRunner: runs the adb client binary (host_files.hpp finds it) as
// Gnirehtet does, `adb [-s SERIAL] ARGS...`, and turns its failures into one
// line a user can act on (adb missing, no device, several devices, device
// unauthorized, device not found, ...). Blocking: call it from a thread
// that may block (the command itself, or autorun's device worker).
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "io/process.hpp"

namespace rtether::adb {

constexpr auto kAdbTimeout = std::chrono::seconds(30);
constexpr auto kInstallTimeout = std::chrono::seconds(180);

struct AdbResult {
  bool ok = false;
  std::string output;  // adb's stdout
  std::string error;   // one line for the user when !ok
  bool cancelled = false;  // stopped by the runner's cancel flag or fd
  bool started = false;    // adb was spawned
};

class AdbRunner {
 public:
  explicit AdbRunner(std::string adb_path, const std::atomic<bool>* cancel = nullptr)
      : adb_path_(std::move(adb_path)), cancel_(cancel) {}
  const std::string& path() const { return adb_path_; }
  // A fd (e.g. the SignalWatcher's signalfd) whose readability cancels the
  // adb command under way (killed) and any later one; -1: none.
  void set_cancel_fd(int fd) { cancel_fd_ = fd; }
  // adb in a process group of its own (run/autostart/autorun, which handle
  // Ctrl+C themselves); by default it shares rtether's and the terminal's
  // Ctrl+C ends both.
  void set_own_process_group(bool own) { own_process_group_ = own; }
  // The full argument list: adb, then -s SERIAL right after it, then args.
  std::vector<std::string> command_line(const std::optional<std::string>& serial,
                                        const std::vector<std::string>& args) const;
  AdbResult run(const std::optional<std::string>& serial, const std::vector<std::string>& args,
                std::chrono::milliseconds timeout = kAdbTimeout) const;

 private:
  std::string adb_path_;
  const std::atomic<bool>* cancel_;
  int cancel_fd_ = -1;
  bool own_process_group_ = false;
};

// The one line for a failed adb run (pure, so tests cover every case).
std::string explain_failure(const std::string& adb_path, const std::vector<std::string>& argv,
                            const std::optional<std::string>& serial,
                            const io::ProcessResult& result);

}  // namespace rtether::adb
