// StatusDisplay; see status_display.hpp.
#include "cli/status_display.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cstdio>

#include "io/console.hpp"
#include "io/log.hpp"

namespace rtether::cli {

void DeviceBoard::set(const std::string& serial, std::string state) {
  std::lock_guard lock(mutex_);
  states_[serial] = Entry{std::move(state), Clock::now()};
}

bool DeviceBoard::set_unless_gone(const std::string& serial, std::string state) {
  std::lock_guard lock(mutex_);
  auto it = states_.find(serial);
  if (it != states_.end() && it->second.state == kGone) return false;
  states_[serial] = Entry{std::move(state), Clock::now()};
  return true;
}

void DeviceBoard::expire_gone(Clock::time_point now, Clock::duration kept) {
  std::lock_guard lock(mutex_);
  std::erase_if(states_, [&](const auto& item) {
    return item.second.state == kGone && now - item.second.since > kept;
  });
}

void DeviceBoard::set_model(const std::string& serial, std::string model) {
  std::lock_guard lock(mutex_);
  models_[serial] = std::move(model);
}

std::map<std::string, std::string> DeviceBoard::models() const {
  std::lock_guard lock(mutex_);
  return models_;
}

std::map<std::string, std::string> DeviceBoard::snapshot() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, std::string> states;
  for (const auto& [serial, entry] : states_) states.emplace(serial, entry.state);
  return states;
}

std::string format_bytes(std::uint64_t bytes) {
  if (bytes < 1000) return fmt::format("{} B", bytes);
  constexpr const char* kUnits[] = {"kB", "MB", "GB", "TB", "PB", "EB"};
  double value = static_cast<double>(bytes) / 1000.0;
  std::size_t unit = 0;
  while (value >= 999.95 && unit + 1 < std::size(kUnits)) {
    value /= 1000.0;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

std::string format_rate(double bytes_per_second) {
  double bits = bytes_per_second > 0 ? bytes_per_second * 8 : 0;
  if (bits < 1000) return fmt::format("{:.0f} bit/s", bits);
  constexpr const char* kUnits[] = {"kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"};
  double value = bits / 1000.0;
  std::size_t unit = 0;
  while (value >= 999.95 && unit + 1 < std::size(kUnits)) {
    value /= 1000.0;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

std::string format_duration(std::chrono::seconds duration) {
  long long total = duration.count() < 0 ? 0 : duration.count();
  return fmt::format("{}:{:02}:{:02}", total / 3600, (total / 60) % 60, total % 60);
}

std::string format_client_line(const ClientLine& line) {
  // Fits 80 columns for everyday values: rate now, total so far in brackets.
  std::string text = fmt::format(
      "client {:<3} {}  flows {:<3} down {} ({})  up {} ({})", line.stats.id,
      format_duration(line.connected_for), line.stats.open_flows,
      format_rate(line.down_bytes_per_second), format_bytes(line.stats.bytes_to_device),
      format_rate(line.up_bytes_per_second), format_bytes(line.stats.bytes_from_device));
  // One namespace on a multi-queue tun is a client per queue (direct mode).
  if (const relay::QueueSlot queue = line.stats.queue; queue.count > 1)
    text += fmt::format("  queue {}/{}", queue.index + 1, queue.count);
  return text;
}

std::string format_device_line(const DeviceLine& line) {
  const relay::DeviceStats* stats = line.stats ? &*line.stats : nullptr;
  std::string state = line.state;
  if (stats != nullptr && stats->connected) {
    state = "connected";
  } else if (state.empty()) {
    state = "not connected";
  }
  std::string text = line.model.empty()
                         ? fmt::format("device {} {}", line.serial, state)
                         : fmt::format("device {} {} {}", line.serial, line.model, state);
  // Figures once the relay has seen a client of it.
  if (stats == nullptr || (stats->connections == 0 && !stats->connected)) return text;
  text += fmt::format("  flows {}  down {} ({})  up {} ({})", stats->open_flows,
                      format_rate(line.down_bytes_per_second),
                      format_bytes(stats->counters.bytes_to_device),
                      format_rate(line.up_bytes_per_second),
                      format_bytes(stats->counters.bytes_from_device));
  if (stats->reconnects > 0) text += fmt::format("  reconnects {}", stats->reconnects);
  return text;
}

std::vector<std::string> fit_to_terminal(std::vector<std::string> lines, std::size_t columns,
                                         std::size_t rows) {
  if (rows > 1 && lines.size() > rows - 1) {
    std::size_t kept = rows - 2;
    std::size_t left_out = lines.size() - kept;
    lines.resize(kept);
    lines.push_back(fmt::format("... {} more line(s) (a taller terminal shows them)", left_out));
  }
  if (columns > 1)
    for (auto& line : lines) line.resize(std::min(line.size(), columns - 1));
  return lines;
}

std::size_t RedrawTracker::lines_to_move_up(std::uint64_t log_lines_now) const {
  if (drawn_lines_ == 0) return 0;
  if (logs_count_ && log_lines_now != log_lines_at_draw_) return 0;
  return drawn_lines_;
}

void RedrawTracker::drawn(std::size_t lines, std::uint64_t log_lines_before_drawing) {
  drawn_lines_ = lines;
  log_lines_at_draw_ = log_lines_before_drawing;
}

StatusDisplay::StatusDisplay(io::EventLoop& loop, const relay::Relay* relay,
                             DeviceBoard* devices, bool terminal,
                             std::chrono::seconds log_interval)
    : loop_(loop),
      relay_(relay),
      devices_(devices),
      terminal_(terminal),
      log_interval_(log_interval),
      timer_(loop, [this] { tick(); }),
      redraw_(terminal && io::stderr_is_stdout_terminal()) {
  last_tick_ = last_log_ = loop_.refresh_now();
  timer_.arm(last_tick_ + kRefresh);
}

StatusDisplay::~StatusDisplay() { timer_.cancel(); }

void StatusDisplay::tick() {
  io::Time now = loop_.now();
  double seconds = std::chrono::duration<double>(now - last_tick_).count();
  last_tick_ = now;
  timer_.arm(now + kRefresh);
  if (devices_ != nullptr) devices_->expire_gone(DeviceBoard::Clock::now());
  auto lines = render(seconds > 0 ? seconds : 1.0);
  if (terminal_) {
    draw(lines);
    return;
  }
  log_device_changes();
  if (log_interval_.count() > 0 && now - last_log_ >= log_interval_) {
    log_totals(std::chrono::duration<double>(now - last_log_).count());
    last_log_ = now;
  }
}

std::vector<std::string> StatusDisplay::render_devices(double seconds) {
  std::map<std::string, DeviceLine> by_serial;
  std::map<std::string, std::string> models;
  if (devices_ != nullptr) {
    models = devices_->models();
    for (auto& [serial, state] : devices_->snapshot()) {
      DeviceLine& line = by_serial[serial];
      line.serial = serial;
      line.state = std::move(state);
    }
  }
  std::map<std::string, relay::DeviceStats> current;
  if (relay_ != nullptr)
    for (auto& stats : relay_->device_stats()) {
      DeviceLine& line = by_serial[stats.serial];
      line.serial = stats.serial;
      auto before = previous_devices_.find(stats.serial);
      if (before != previous_devices_.end()) {
        const relay::Counters& was = before->second.counters;
        line.down_bytes_per_second =
            static_cast<double>(stats.counters.bytes_to_device - was.bytes_to_device) / seconds;
        line.up_bytes_per_second =
            static_cast<double>(stats.counters.bytes_from_device - was.bytes_from_device) /
            seconds;
      }
      line.stats = stats;
      current.emplace(stats.serial, std::move(stats));
    }
  previous_devices_ = std::move(current);
  std::vector<std::string> lines;
  lines.reserve(by_serial.size());
  for (auto& [serial, line] : by_serial) {
    if (auto model = models.find(serial); model != models.end()) line.model = model->second;
    lines.push_back(format_device_line(line));
  }
  return lines;
}

std::vector<std::string> StatusDisplay::render(double seconds) {
  std::vector<std::string> lines = render_devices(seconds);
  if (relay_ == nullptr) return lines;
  std::map<std::uint32_t, relay::ClientStats> current;
  io::Time now = loop_.now();
  for (const auto& stats : relay_->client_stats()) {
    current[stats.id] = stats;
    // A device's clients are on its device line.
    if (!stats.serial.empty()) continue;
    auto [seen, inserted] = first_seen_.emplace(stats.id, now);
    ClientLine line{stats, 0, 0,
                    std::chrono::duration_cast<std::chrono::seconds>(now - seen->second)};
    auto before = previous_.find(stats.id);
    if (before != previous_.end()) {
      line.down_bytes_per_second =
          static_cast<double>(stats.bytes_to_device - before->second.bytes_to_device) / seconds;
      line.up_bytes_per_second =
          static_cast<double>(stats.bytes_from_device - before->second.bytes_from_device) / seconds;
    }
    lines.push_back(format_client_line(line));
  }
  for (auto it = first_seen_.begin(); it != first_seen_.end();)
    it = current.count(it->first) != 0 ? std::next(it) : first_seen_.erase(it);
  previous_ = std::move(current);
  if (lines.empty()) lines.push_back("waiting for a device to connect ...");
  return lines;
}

void StatusDisplay::draw(const std::vector<std::string>& lines) {
  // Read before writing: a log line from another thread after this point
  // makes the next picture start below it instead of over it.
  const std::uint64_t log_lines = log::lines_written();
  std::string out;
  if (std::size_t up = redraw_.lines_to_move_up(log_lines); up > 0)
    out += fmt::format("\x1b[{}F", up);
  out += "\x1b[J";
  io::TerminalSize size = io::stdout_terminal_size();
  auto fitted = fit_to_terminal(lines, size.columns, size.rows);
  for (const auto& line : fitted) out += line + "\x1b[K\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  redraw_.drawn(fitted.size(), log_lines);
}

void StatusDisplay::log_device_changes() {
  if (devices_ == nullptr) return;
  auto now = devices_->snapshot();
  for (const auto& [serial, state] : now) {
    auto before = logged_devices_.find(serial);
    if (before == logged_devices_.end() || before->second != state)
      log::info("device {}: {}", serial, state);
  }
  logged_devices_ = std::move(now);
  auto models = devices_->models();
  for (const auto& [serial, model] : models) {
    auto before = logged_models_.find(serial);
    if (before == logged_models_.end() || before->second != model)
      log::info("device {} is a {}", serial, model);
  }
  logged_models_ = std::move(models);
}

void StatusDisplay::log_totals(double seconds) {
  if (relay_ == nullptr) return;
  for (const auto& [serial, stats] : previous_devices_) {
    if (stats.connections == 0) continue;
    auto before = devices_at_last_log_.find(serial);
    relay::Counters base =
        before != devices_at_last_log_.end() ? before->second.counters : relay::Counters{};
    const relay::Counters& now = stats.counters;
    log::info("device {}: {}, flows {}, down {} ({}), up {} ({}), reconnects {}", serial,
              stats.connected ? "connected" : "not connected", stats.open_flows,
              format_bytes(now.bytes_to_device),
              format_rate(static_cast<double>(now.bytes_to_device - base.bytes_to_device) /
                          seconds),
              format_bytes(now.bytes_from_device),
              format_rate(static_cast<double>(now.bytes_from_device - base.bytes_from_device) /
                          seconds),
              stats.reconnects);
  }
  devices_at_last_log_ = previous_devices_;
  for (const auto& [id, stats] : previous_) {
    if (!stats.serial.empty()) continue;
    auto before = at_last_log_.find(id);
    relay::ClientStats base = before != at_last_log_.end() ? before->second : relay::ClientStats{};
    log::info(
        "client {}: flows {}, down {} ({}), up {} ({})", id, stats.open_flows,
        format_bytes(stats.bytes_to_device),
        format_rate(static_cast<double>(stats.bytes_to_device - base.bytes_to_device) / seconds),
        format_bytes(stats.bytes_from_device),
        format_rate(static_cast<double>(stats.bytes_from_device - base.bytes_from_device) /
                    seconds));
  }
  at_last_log_ = previous_;
}

}  // namespace rtether::cli
