// Finding adb and the apk; see host_files.hpp.
#include "adb/host_files.hpp"

#include <sys/stat.h>

#include <cstdlib>

#include "io/executable_location.hpp"

namespace rtether::adb {

namespace {
bool set(const char* variable) { return variable != nullptr && *variable != '\0'; }
}  // namespace

std::string choose_adb(const char* adb_variable, const std::optional<std::string>& beside_rtether,
                       const FileTest& is_file) {
  if (set(adb_variable)) return adb_variable;
  if (beside_rtether) {
    std::string shipped = *beside_rtether + adb_file_name();
    if (is_file(shipped)) return shipped;
  }
  return "adb";
}

std::string choose_apk(const char* rtether_apk, const char* gnirehtet_apk,
                       const std::optional<std::string>& beside_rtether, const FileTest& is_file) {
  if (set(rtether_apk)) return rtether_apk;
  if (set(gnirehtet_apk)) return gnirehtet_apk;
  if (!is_file(kApkFileName) && beside_rtether) {
    std::string shipped = *beside_rtether + kApkFileName;
    if (is_file(shipped)) return shipped;
  }
  return kApkFileName;
}

std::string adb_path_from_environment() {
  return choose_adb(std::getenv("ADB"), io::executable_directory(), is_regular_file);
}

std::string apk_path_from_environment() {
  return choose_apk(std::getenv("RTETHER_APK"), std::getenv("GNIREHTET_APK"),
                    io::executable_directory(), is_regular_file);
}

bool is_regular_file(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

}  // namespace rtether::adb
