// Where the control socket is by default (control/README.md): pure, the
// caller reads the environment and its uid.
#pragma once

#include <string>

namespace rtether::control {

// $RUNTIME_DIRECTORY/control when systemd gave the service a runtime
// directory (RuntimeDirectory=, an absolute path; the packaged units' is
// /run/rtether, where root's `rtether status` looks), else
// $XDG_RUNTIME_DIR/rtether/control when xdg_runtime_dir is an absolute
// path, else /run/rtether/control for uid 0, else /tmp/rtether-UID/control.
std::string default_control_path(const char* runtime_directory, const char* xdg_runtime_dir,
                                 long uid);

// The folder of a socket path ("" for a bare name).
std::string control_folder(const std::string& path);

}  // namespace rtether::control
