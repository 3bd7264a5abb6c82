// DeviceWorker: the blocking adb work of `autostart`/`autorun` (starting a
// device: version check, install, reverse tunnel, am start; `adb
// start-server` when the server is gone) on one thread of its own, so the
// event loop that relays packets and watches devices never waits on adb.
// Jobs run in order; a device already queued is not queued twice, nor is a
// second start-server. Each device's reverse tunnel goes to the relay port
// given with it (autorun: the device's own listener; autostart: -p).
// Shutdown cancels the adb command under way (killed) and joins the thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "adb/adb_runner.hpp"
#include "adb/gnirehtet_app.hpp"
#include "cli/status_display.hpp"

namespace rtether::cli {

class DeviceWorker {
 public:
  DeviceWorker(std::string adb_path, std::string apk_path, adb::StartOptions options,
               DeviceBoard& board);
  ~DeviceWorker();
  DeviceWorker(const DeviceWorker&) = delete;
  DeviceWorker& operator=(const DeviceWorker&) = delete;

  void start_device(const std::string& serial, std::uint16_t relay_port);
  void start_server();
  void shutdown();

 private:
  struct Job {
    std::optional<std::string> serial;  // none: adb start-server
    std::uint16_t relay_port = 0;
  };
  void work();
  void run_job(const Job& job);

  std::atomic<bool> cancel_{false};
  adb::AdbRunner adb_;
  adb::GnirehtetApp app_;
  adb::StartOptions options_;
  DeviceBoard& board_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  std::set<std::string> queued_serials_;
  bool server_start_queued_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace rtether::cli
