// adb's name and where to get it on Linux; see host_files.hpp.
#include "adb/host_files.hpp"

namespace rtether::adb {

const char* adb_file_name() { return "adb"; }

const char* adb_install_advice() {
  return "install it (apt-get install adb) or set ADB to the adb binary's path";
}

}  // namespace rtether::adb
