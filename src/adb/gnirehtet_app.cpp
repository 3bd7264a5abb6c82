// GnirehtetApp; see gnirehtet_app.hpp.
#include "adb/gnirehtet_app.hpp"

#include <charconv>
#include <thread>

#include "adb/host_files.hpp"
#include "io/log.hpp"

namespace rtether::adb {

namespace {
// Gnirehtet waits this long after installing before starting the activity.
constexpr auto kAfterInstall = std::chrono::milliseconds(500);
constexpr const char* kActivity = "com.genymobile.gnirehtet/.GnirehtetActivity";
constexpr const char* kStartAction = "com.genymobile.gnirehtet.START";
constexpr const char* kStopAction = "com.genymobile.gnirehtet.STOP";

// The app's socket on the device, as adb names a device-side endpoint.
std::string reverse_socket() {
  return std::string("localabstract:") + wire::gnirehtet::kAbstractSocketName;
}

std::string serial_suffix(const GnirehtetApp::Serial& serial) {
  return serial ? " on " + *serial : "";
}
}  // namespace

std::optional<int> installed_version_code(std::string_view dumpsys) {
  constexpr std::string_view kKey = "versionCode=";
  std::size_t at = dumpsys.find(kKey);
  if (at == std::string_view::npos) return std::nullopt;
  const char* begin = dumpsys.data() + at + kKey.size();
  const char* end = dumpsys.data() + dumpsys.size();
  int value = 0;
  auto [stop, status] = std::from_chars(begin, end, value);
  if (status != std::errc() || stop == begin) return std::nullopt;
  return value;
}

std::vector<std::string> reverse_arguments(std::uint16_t port) {
  return {"reverse", reverse_socket(), "tcp:" + std::to_string(port)};
}

std::vector<std::string> start_arguments(const StartOptions& options) {
  std::vector<std::string> args{"shell", "am", "start", "-a", kStartAction, "-n", kActivity};
  if (!options.dns.empty()) args.insert(args.end(), {"--esa", "dnsServers", options.dns});
  if (!options.routes.empty()) args.insert(args.end(), {"--esa", "routes", options.routes});
  return args;
}

std::vector<std::string> stop_arguments() {
  return {"shell", "am", "start", "-a", kStopAction, "-n", kActivity};
}

bool GnirehtetApp::run(const Serial& serial, const std::vector<std::string>& args,
                       std::string& error, std::string* output, std::chrono::milliseconds timeout) {
  AdbResult result = adb_.run(serial, args, timeout);
  if (result.cancelled) interrupted_ = true;
  last_started_ = result.started;
  if (output != nullptr) *output = std::move(result.output);
  if (!result.ok) error = result.error;
  return result.ok;
}

bool GnirehtetApp::install(const Serial& serial, std::string& error) {
  if (!is_regular_file(apk_path_)) {
    error = "APK not found: '" + apk_path_ +
            "' (set GNIREHTET_APK, or RTETHER_APK, to the Gnirehtet app's apk)";
    return false;
  }
  log::info("installing {}{}", apk_path_, serial_suffix(serial));
  return run(serial, {"install", "-r", apk_path_}, error, nullptr, kInstallTimeout);
}

GnirehtetApp::Uninstall GnirehtetApp::remove(const Serial& serial, std::string& error) {
  log::info("uninstalling {}{}", kGnirehtetPackage, serial_suffix(serial));
  std::string output;
  bool ran = run(serial, {"uninstall", kGnirehtetPackage}, error, &output);
  // The package manager's verdict is in the output ("Success" or
  // "Failure [REASON]"), whatever adb's exit status (a v1 shell says 0).
  std::size_t failure = output.find("Failure");
  if (failure == std::string::npos) return ran ? Uninstall::Done : Uninstall::Failed;
  if (output.find("DELETE_FAILED_INTERNAL_ERROR", failure) != std::string::npos ||
      output.find("Unknown package", failure) != std::string::npos) {
    error = std::string("the Gnirehtet app is not installed") + serial_suffix(serial);
    return Uninstall::NotInstalled;
  }
  std::size_t end = output.find('\n', failure);
  error = "uninstall refused: " +
          output.substr(failure, end == std::string::npos ? std::string::npos : end - failure);
  return Uninstall::Failed;
}

bool GnirehtetApp::uninstall(const Serial& serial, std::string& error) {
  return remove(serial, error) == Uninstall::Done;
}

bool GnirehtetApp::reinstall(const Serial& serial, std::string& error) {
  switch (remove(serial, error)) {
    case Uninstall::Failed:
      return false;
    case Uninstall::NotInstalled:
      log::info("{}; installing it", error);
      break;
    case Uninstall::Done:
      break;
  }
  return install(serial, error);
}

bool GnirehtetApp::tunnel(const Serial& serial, std::uint16_t port, std::string& error) {
  log::info("reverse tunnel {} -> tcp:{}{}", reverse_socket(), port, serial_suffix(serial));
  return run(serial, reverse_arguments(port), error);
}

// `am` through a v1 shell always exits 0; its own failure is in the output.
bool GnirehtetApp::am_start(const Serial& serial, const std::vector<std::string>& args,
                            std::string& error) {
  std::string output;
  if (!run(serial, args, error, &output)) return false;
  std::size_t at = output.find("Error");
  if (at != std::string::npos) {
    std::size_t end = output.find('\n', at);
    error = "the device refused to start the Gnirehtet activity: " +
            output.substr(at, end == std::string::npos ? std::string::npos : end - at);
    return false;
  }
  return true;
}

bool GnirehtetApp::start(const Serial& serial, const StartOptions& options, std::string& error) {
  interrupted_ = false;
  start_sent_ = false;
  std::string dumpsys;
  if (!run(serial, {"shell", "dumpsys", "package", kGnirehtetPackage}, error, &dumpsys))
    return false;
  auto version = installed_version_code(dumpsys);
  if (version != kGnirehtetVersionCode) {
    if (version) {
      log::info("Gnirehtet app versionCode {} installed, {} needed", *version,
                kGnirehtetVersionCode);
    } else {
      log::info("Gnirehtet app not installed{}", serial_suffix(serial));
    }
    if (!install(serial, error)) return false;
    std::this_thread::sleep_for(kAfterInstall);
  }
  if (!tunnel(serial, options.port, error)) return false;
  log::info("starting the Gnirehtet app{}", serial_suffix(serial));
  bool started = am_start(serial, start_arguments(options), error);
  start_sent_ = last_started_;
  return started;
}

bool GnirehtetApp::stop(const Serial& serial, std::string& error) {
  log::info("stopping the Gnirehtet app{}", serial_suffix(serial));
  return am_start(serial, stop_arguments(), error);
}

}  // namespace rtether::adb
