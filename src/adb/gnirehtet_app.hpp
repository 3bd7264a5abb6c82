// The Gnirehtet Android app driven through adb, with Gnirehtet's own adb
// argument lists (docs/ARCHITECTURE.md lists them): install, uninstall,
// start (version check, install if needed, reverse tunnel, am start with
// extras), stop, tunnel. Each returns true, or false with one line in
// `error`. Blocking (runs adb).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adb/adb_runner.hpp"
#include "wire/gnirehtet.hpp"

namespace rtether::adb {

inline constexpr const char* kGnirehtetPackage = "com.genymobile.gnirehtet";
inline constexpr int kGnirehtetVersionCode = 9;  // Gnirehtet 2.5.1

struct StartOptions {
  std::string dns;     // "-d", canonical (cli/start_values.hpp); empty = the app's default
  std::string routes;  // "-r", canonical; empty = the app's default
  std::uint16_t port = wire::gnirehtet::kRelayPort;
};

// The versionCode in `dumpsys package` output, if the package is there.
std::optional<int> installed_version_code(std::string_view dumpsys);

// `reverse localabstract:gnirehtet tcp:PORT`.
std::vector<std::string> reverse_arguments(std::uint16_t port);
// `shell am start -a ...START -n ... [--esa dnsServers D] [--esa routes R]`.
std::vector<std::string> start_arguments(const StartOptions& options);
std::vector<std::string> stop_arguments();

class GnirehtetApp {
 public:
  GnirehtetApp(const AdbRunner& adb, std::string apk_path)
      : adb_(adb), apk_path_(std::move(apk_path)) {}

  using Serial = std::optional<std::string>;
  bool install(const Serial& serial, std::string& error);
  // Fails, saying so, when the app is not installed.
  bool uninstall(const Serial& serial, std::string& error);
  // Also installs when there was nothing to uninstall.
  bool reinstall(const Serial& serial, std::string& error);
  // Installs first when the app is missing or not versionCode 9.
  bool start(const Serial& serial, const StartOptions& options, std::string& error);
  bool stop(const Serial& serial, std::string& error);
  // About the last start(): whether an adb command was cancelled (the
  // runner's cancel), and whether `am start ...START` reached adb (so a
  // cancelled start may have started the app: stop it).
  bool interrupted() const { return interrupted_; }
  bool start_sent() const { return start_sent_; }
  bool tunnel(const Serial& serial, std::uint16_t port, std::string& error);

 private:
  enum class Uninstall { Done, NotInstalled, Failed };
  Uninstall remove(const Serial& serial, std::string& error);
  bool run(const Serial& serial, const std::vector<std::string>& args, std::string& error,
           std::string* output = nullptr, std::chrono::milliseconds timeout = kAdbTimeout);
  bool am_start(const Serial& serial, const std::vector<std::string>& args, std::string& error);

  const AdbRunner& adb_;
  std::string apk_path_;
  bool interrupted_ = false;
  bool start_sent_ = false;
  bool last_started_ = false;  // the last adb command was spawned
};

}  // namespace rtether::adb
