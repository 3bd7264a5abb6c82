// adb's name and where to get it on Windows; see host_files.hpp.
#include "adb/host_files.hpp"

namespace rtether::adb {

const char* adb_file_name() { return "adb.exe"; }

const char* adb_install_advice() {
  return "put adb.exe (Android SDK Platform-Tools, with its AdbWinApi.dll and AdbWinUsbApi.dll) "
         "next to rtether.exe or on PATH, or set ADB to the adb binary's path";
}

}  // namespace rtether::adb
