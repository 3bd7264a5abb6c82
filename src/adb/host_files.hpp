// Where the host commands find the adb binary and Gnirehtet's apk. Besides
// the places Gnirehtet looks (ADB, PATH; GNIREHTET_APK, the current
// directory), the folder of rtether's own binary counts, as Gnirehtet's
// Windows zip ships adb.exe and gnirehtet.apk beside its exe; the same
// rule holds on Linux (an unpacked release folder run from elsewhere):
//   adb: ADB, else adb (adb.exe) next to rtether, else adb from PATH;
//   apk: RTETHER_APK, else GNIREHTET_APK, else gnirehtet.apk in the
//        current directory, else next to rtether if it is there (else the
//        current directory's, which a missing-apk error then names).
// The choices are pure functions of the environment, the binary's folder
// and a file test, so tests cover each step.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace rtether::adb {

using FileTest = std::function<bool(const std::string& path)>;

inline constexpr const char* kApkFileName = "gnirehtet.apk";

// `adb_variable`: ADB's value (null when unset); `beside_rtether`: the
// binary's folder with its trailing separator.
std::string choose_adb(const char* adb_variable, const std::optional<std::string>& beside_rtether,
                       const FileTest& is_file);
std::string choose_apk(const char* rtether_apk, const char* gnirehtet_apk,
                       const std::optional<std::string>& beside_rtether, const FileTest& is_file);

// From this process's environment and binary.
std::string adb_path_from_environment();
std::string apk_path_from_environment();

// True when `path` is a regular file.
bool is_regular_file(const std::string& path);

// The OS's parts (adb/linux/, adb/windows/): adb's file name ("adb",
// "adb.exe") and how to get it, for the "adb not found" line.
const char* adb_file_name();
const char* adb_install_advice();

}  // namespace rtether::adb
