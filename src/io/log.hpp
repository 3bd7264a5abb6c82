// Minimal levelled logging to stderr, formatted with fmt. The level is
// process-wide (set once from -v/-q); messages below it cost one compare.
#pragma once

#include <fmt/core.h>

#include <cstdint>
#include <cstdio>

namespace rtether::log {

enum class Level : int { Debug = 0, Info = 1, Warn = 2, Error = 3, Silent = 4 };

Level level();
void set_level(Level level);
void write(Level level, fmt::string_view text);
// Lines written so far (a live status display redraws in place only when no
// log line came in between).
std::uint64_t lines_written();

template <typename... Args>
void debug(fmt::format_string<Args...> format, Args&&... args) {
  if (level() <= Level::Debug) write(Level::Debug, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> format, Args&&... args) {
  if (level() <= Level::Info) write(Level::Info, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> format, Args&&... args) {
  if (level() <= Level::Warn) write(Level::Warn, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> format, Args&&... args) {
  if (level() <= Level::Error) write(Level::Error, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace rtether::log
