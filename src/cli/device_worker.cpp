// DeviceWorker; see device_worker.hpp.
#include "cli/device_worker.hpp"

#include "io/log.hpp"

namespace rtether::cli {

DeviceWorker::DeviceWorker(std::string adb_path, std::string apk_path, adb::StartOptions options,
                           DeviceBoard& board)
    : adb_(std::move(adb_path), &cancel_),
      app_(adb_, std::move(apk_path)),
      options_(std::move(options)),
      board_(board),
      thread_([this] { work(); }) {
  // Ctrl+C is the event loop's (signalfd); adb must not get it too.
  adb_.set_own_process_group(true);
}

DeviceWorker::~DeviceWorker() { shutdown(); }

void DeviceWorker::start_device(const std::string& serial, std::uint16_t relay_port) {
  std::lock_guard lock(mutex_);
  if (stopping_) return;
  // Queued already (gone and back meanwhile, say): one job, but the board
  // says it is waiting again.
  board_.set(serial, "waiting to start");
  if (!queued_serials_.insert(serial).second) return;
  jobs_.push_back(Job{serial, relay_port});
  wake_.notify_one();
}

void DeviceWorker::start_server() {
  std::lock_guard lock(mutex_);
  if (stopping_ || server_start_queued_) return;
  server_start_queued_ = true;
  jobs_.push_back(Job{std::nullopt});
  wake_.notify_one();
}

void DeviceWorker::shutdown() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    jobs_.clear();
  }
  cancel_ = true;
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void DeviceWorker::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
      if (job.serial) {
        queued_serials_.erase(*job.serial);
      } else {
        server_start_queued_ = false;
      }
    }
    run_job(job);
  }
}

void DeviceWorker::run_job(const Job& job) {
  if (!job.serial) {
    auto result = adb_.run(std::nullopt, {"start-server"});
    if (!result.ok && !cancel_) log::warn("adb start-server: {}", result.error);
    return;
  }
  const std::string& serial = *job.serial;
  // A device that went away meanwhile stays "gone" on the board.
  board_.set_unless_gone(serial, "starting");
  std::string error;
  adb::StartOptions options = options_;
  options.port = job.relay_port;
  if (app_.start(serial, options, error)) {
    board_.set_unless_gone(serial,
                           "started (reverse tunnel to tcp:" + std::to_string(options.port) + ")");
    log::info("device {} started", serial);
  } else if (!cancel_) {
    board_.set_unless_gone(serial, "failed: " + error);
    log::error("device {}: {}", serial, error);
  }
}

}  // namespace rtether::cli
