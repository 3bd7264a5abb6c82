// Process-wide log level and the single stderr writer (one fwrite and flush
// per line, so lines from different threads do not interleave mid-line).
#include "io/log.hpp"

#include <atomic>
#include <chrono>
#include <string>

namespace rtether::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::Info)};
std::atomic<std::uint64_t> g_lines{0};
constexpr const char* kLevelNames[] = {"debug", "info", "warn", "error", ""};
}  // namespace

Level level() { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }
void set_level(Level level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }

void write(Level level, fmt::string_view text) {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  std::string line = fmt::format("{:02}:{:02}:{:02}.{:03} rtether {}: {}\n", (ms / 3600000) % 24,
                                 (ms / 60000) % 60, (ms / 1000) % 60, ms % 1000,
                                 kLevelNames[static_cast<int>(level)], text);
  std::fwrite(line.data(), 1, line.size(), stderr);
  // Windows' C runtime buffers stderr when it is a file or a pipe rather than
  // a console (rtether.exe 2> relay.log showed nothing until exit): a line
  // is written out when it is logged, on every OS.
  std::fflush(stderr);
  g_lines.fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t lines_written() { return g_lines.load(std::memory_order_relaxed); }

}  // namespace rtether::log
