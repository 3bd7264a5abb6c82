// AdbRunner; see adb_runner.hpp.
#include "adb/adb_runner.hpp"

#include <cstring>

#include "adb/host_files.hpp"
#include "io/log.hpp"

namespace rtether::adb {

namespace {
bool contains(const std::string& text, const char* needle) {
  return text.find(needle) != std::string::npos;
}

// The line of adb's stderr (or stdout) that says what went wrong, without
// its "adb: error: " tag: the first one tagged "adb: error:", "error:" or
// "adb:" (adb may add a "See [http://...] for more information" after it),
// else the last non-empty one.
std::string detail_line(const io::ProcessResult& result) {
  const std::string& text =
      result.err.find_first_not_of(" \t\r\n") != std::string::npos ? result.err : result.out;
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    std::size_t first = line.find_first_not_of(" \t\r");
    std::size_t last = line.find_last_not_of(" \t\r");
    if (first != std::string::npos) lines.push_back(line.substr(first, last - first + 1));
    start = end + 1;
  }
  if (lines.empty()) return "";
  constexpr const char* kTags[] = {"adb: error: ", "error: ", "adb: "};
  auto untagged = [&](std::string line) {
    for (const char* tag : kTags)
      if (line.starts_with(tag)) return line.erase(0, std::strlen(tag));
    return line;
  };
  for (const auto& line : lines)
    for (const char* tag : kTags)
      if (line.starts_with(tag)) return untagged(line);
  return untagged(lines.back());
}

std::string joined(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& arg : argv) {
    if (!text.empty()) text += ' ';
    text += arg;
  }
  return text;
}
}  // namespace

std::vector<std::string> AdbRunner::command_line(const std::optional<std::string>& serial,
                                                 const std::vector<std::string>& args) const {
  std::vector<std::string> argv{adb_path_};
  if (serial) {
    argv.push_back("-s");
    argv.push_back(*serial);
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

AdbResult AdbRunner::run(const std::optional<std::string>& serial,
                         const std::vector<std::string>& args,
                         std::chrono::milliseconds timeout) const {
  auto argv = command_line(serial, args);
  log::debug("running: {}", joined(argv));
  io::ProcessResult process =
      io::run_process(argv, timeout, cancel_, cancel_fd_, own_process_group_);
  AdbResult result;
  result.ok = process.succeeded();
  result.cancelled = process.cancelled;
  result.started = process.started;
  if (!result.ok) result.error = explain_failure(adb_path_, argv, serial, process);
  result.output = std::move(process.out);
  return result;
}

std::string explain_failure(const std::string& adb_path, const std::vector<std::string>& argv,
                            const std::optional<std::string>& serial,
                            const io::ProcessResult& result) {
  if (result.spawn_error == std::errc::no_such_file_or_directory)
    return "adb not found ('" + adb_path + "'): " + adb_install_advice();
  if (result.spawn_error == std::errc::permission_denied)
    return "adb '" + adb_path + "' is not executable: set ADB to the adb binary's path";
  if (result.spawn_error)
    return "cannot run '" + adb_path + "': " + result.spawn_error.message();
  const std::string what = joined(argv);
  if (result.cancelled) return "'" + what + "' interrupted";
  if (result.timed_out) return "'" + what + "' did not finish in time; adb or the device hangs";
  const std::string all = result.err + "\n" + result.out;
  if (contains(all, "insufficient permissions") || contains(all, "no permissions"))
    return "no permission to use the USB device" +
           (serial ? " '" + *serial + "'" : std::string()) +
           ": add a udev rule for it (Debian: apt-get install android-sdk-platform-tools-common) "
           "and your user to the plugdev group, then replug it";
  if (contains(all, "no devices/emulators found") || contains(all, "no devices found"))
    return "no device connected: plug in a phone with USB debugging enabled "
           "('adb devices' lists none)";
  if (contains(all, "more than one device"))
    return "several devices connected: name one, e.g. 'rtether start SERIAL' "
           "('adb devices' lists them)";
  if (contains(all, "unauthorized"))
    return "device " + (serial ? "'" + *serial + "' " : std::string()) +
           "unauthorized: unlock it and accept the USB debugging prompt, then retry";
  if (contains(all, "offline"))
    return "device " + (serial ? "'" + *serial + "' " : std::string()) +
           "offline: reconnect it or restart adb ('adb kill-server')";
  if (contains(all, "not found") && serial && contains(all, serial->c_str()))
    return "device '" + *serial + "' not found ('adb devices' lists the connected ones)";
  if (contains(all, "cannot connect to daemon") || contains(all, "failed to start daemon"))
    return "cannot reach the adb server: " + detail_line(result);
  std::string detail = detail_line(result);
  int code = result.status ? result.status->shell_code() : -1;
  return "'" + what + "' failed (exit " + std::to_string(code) + ")" +
         (detail.empty() ? "" : ": " + detail);
}

}  // namespace rtether::adb
