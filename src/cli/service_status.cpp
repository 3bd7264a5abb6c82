// The service manager's view of a running relay; see service_status.hpp.
#include "cli/service_status.hpp"

#include <fmt/core.h>

#include "cli/status_display.hpp"
#include "io/service_manager.hpp"

namespace rtether::cli {

ServiceStatus::ServiceStatus(io::EventLoop& loop, const relay::Relay* relay,
                             const DeviceBoard* board, std::string doing,
                             std::chrono::seconds interval)
    : loop_(loop),
      relay_(relay),
      board_(board),
      doing_(std::move(doing)),
      interval_(interval),
      timer_(loop, [this] { tick(); }) {
  io::notify_ready(doing_);
  if (interval_.count() > 0 && io::has_service_manager()) timer_.arm(loop_.now() + interval_);
}

std::string ServiceStatus::status() const {
  std::string text = doing_;
  const char* separator = ": ";
  if (relay_ != nullptr) {
    // Bytes since start, clients gone included: a service's totals.
    const auto totals = relay_->totals();
    const auto clients = relay_->client_count();
    text +=
        fmt::format("{}{} client{}, {} flows, {} down, {} up since start", separator, clients,
                    clients == 1 ? "" : "s", relay_->flow_count(),
                    format_bytes(totals.bytes_to_device), format_bytes(totals.bytes_from_device));
    separator = "; ";
  }
  if (board_ != nullptr) {
    std::size_t listed = 0;
    for (const auto& [serial, state] : board_->snapshot())
      if (state != DeviceBoard::kGone) ++listed;
    text += fmt::format("{}{} device{}", separator, listed, listed == 1 ? "" : "s");
  }
  return text;
}

void ServiceStatus::stopping(const std::string& why) {
  timer_.cancel();
  io::notify_stopping(why);
}

void ServiceStatus::tick() {
  io::notify_status(status());
  timer_.arm(loop_.now() + interval_);
}

}  // namespace rtether::cli
