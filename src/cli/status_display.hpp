// Live status of `relay`, `run` and `autorun`. On a terminal: one line per
// device, by adb serial: what rtether did with it (the DeviceBoard) or,
// while its client is connected, "connected"; its open flows, current
// down/up rate and totals over all its clients (the relay's DeviceStats,
// so they survive the app reconnecting) and its reconnects. Clients the
// relay knows no serial of (plain `relay`, a tunnel autorun did not set
// up) keep a line each (id, time connected, flows, rates, totals). Lines
// are cut to the terminal's width and redrawn in place about once a second.
// Elsewhere (a pipe, a log file): plain log lines: the relay already logs
// connects and disconnects; here each change of a device's state, and a
// totals line per device and per client without a serial every
// `log_interval`.
//
// Down = host to device (bytes the relay sent to the client), up = device
// to host.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "io/event_loop.hpp"
#include "relay/relay.hpp"

namespace rtether::cli {

// Per-device states written by adb work (any thread), read by the display.
class DeviceBoard {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr const char* kGone = "gone";  // no longer listed by adb
  static constexpr auto kGoneKept = std::chrono::seconds(60);

  void set(const std::string& serial, std::string state);
  // Leaves a device the watcher saw go alone (a start finishing after the
  // device went away must not bring it back); false then.
  bool set_unless_gone(const std::string& serial, std::string state);
  // Forgets devices gone for longer than `kept` (as of `now`).
  void expire_gone(Clock::time_point now, Clock::duration kept = kGoneKept);
  std::map<std::string, std::string> snapshot() const;

 private:
  struct Entry {
    std::string state;
    Clock::time_point since;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Entry> states_;
};

// "1.5 MB", "980 B" (decimal units, as network tools print them).
std::string format_bytes(std::uint64_t bytes);
// "12.3 Mbit/s"
std::string format_rate(double bytes_per_second);
std::string format_duration(std::chrono::seconds duration);

struct ClientLine {
  relay::ClientStats stats;
  double down_bytes_per_second = 0;
  double up_bytes_per_second = 0;
  std::chrono::seconds connected_for{0};
};
std::string format_client_line(const ClientLine& line);

struct DeviceLine {
  std::string serial;
  std::string state;  // the board's; empty when it has none
  // The relay's figures for the serial; none when the relay does not know
  // it (autostart, `run` without a serial).
  std::optional<relay::DeviceStats> stats;
  double down_bytes_per_second = 0;
  double up_bytes_per_second = 0;
};
std::string format_device_line(const DeviceLine& line);

// The lines drawn on a terminal of `columns` x `rows` (0 = unknown): each
// cut to columns - 1 (a wrapped line would break the in-place redraw), and
// at most rows - 1 of them, the last saying how many more were left out.
std::vector<std::string> fit_to_terminal(std::vector<std::string> lines, std::size_t columns,
                                         std::size_t rows);

// When to redraw in place: only if no log line reached the same terminal
// since the last picture. Take the log count before writing the picture
// (a line logged by another thread meanwhile then forces a fresh picture,
// never a redraw over it); a log on another file (stderr elsewhere) never
// counts.
class RedrawTracker {
 public:
  explicit RedrawTracker(bool logs_on_same_terminal) : logs_count_(logs_on_same_terminal) {}
  // Lines to move up before drawing (0: draw below), given the log count now.
  std::size_t lines_to_move_up(std::uint64_t log_lines_now) const;
  void drawn(std::size_t lines, std::uint64_t log_lines_before_drawing);

 private:
  bool logs_count_;
  std::size_t drawn_lines_ = 0;
  std::uint64_t log_lines_at_draw_ = 0;
};

class StatusDisplay {
 public:
  static constexpr auto kRefresh = std::chrono::seconds(1);

  // `relay` and `devices` may be null (autostart has no relay; relay has no
  // devices). `terminal`: draw in place on stdout (io::stdout_is_terminal());
  // else log lines.
  StatusDisplay(io::EventLoop& loop, const relay::Relay* relay, DeviceBoard* devices,
                bool terminal, std::chrono::seconds log_interval);
  ~StatusDisplay();

 private:
  void tick();
  std::vector<std::string> render(double seconds);
  void draw(const std::vector<std::string>& lines);
  void log_device_changes();
  void log_totals(double seconds);
  std::vector<std::string> render_devices(double seconds);

  io::EventLoop& loop_;
  const relay::Relay* relay_;
  DeviceBoard* devices_;  // gone entries expire here
  bool terminal_;
  std::chrono::seconds log_interval_;
  io::Timer timer_;
  io::Time last_tick_;
  io::Time last_log_;
  std::map<std::uint32_t, relay::ClientStats> previous_;
  std::map<std::uint32_t, io::Time> first_seen_;
  std::map<std::uint32_t, relay::ClientStats> at_last_log_;
  std::map<std::string, relay::DeviceStats> previous_devices_;
  std::map<std::string, relay::DeviceStats> devices_at_last_log_;
  std::map<std::string, std::string> logged_devices_;
  RedrawTracker redraw_;
};

}  // namespace rtether::cli
