// The default control socket path; see control_path.hpp.
#include "control/control_path.hpp"

#include <fmt/core.h>

namespace rtether::control {

std::string default_control_path(const char* runtime_directory, const char* xdg_runtime_dir,
                                 long uid) {
  // systemd.exec(5): RuntimeDirectory= sets $RUNTIME_DIRECTORY to the
  // absolute path it created; the first one when several are listed.
  if (runtime_directory && runtime_directory[0] == '/') {
    std::string first(runtime_directory);
    return first.substr(0, first.find(':')) + "/control";
  }
  // XDG Base Directory Specification: $XDG_RUNTIME_DIR is per user, 0700,
  // and "must be an absolute path"; a relative one is to be ignored.
  if (xdg_runtime_dir && xdg_runtime_dir[0] == '/')
    return std::string(xdg_runtime_dir) + "/rtether/control";
  if (uid == 0) return "/run/rtether/control";
  return fmt::format("/tmp/rtether-{}/control", uid);
}

std::string control_folder(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

}  // namespace rtether::control
