// --control on Linux: the control socket at PATH or the default path (its
// folder created 0700 when missing); see cli/control_option.hpp.
#include "cli/control_option.hpp"

#include <unistd.h>

#include <cstdlib>

#include "control/control_path.hpp"
#include "io/private_unix_listener.hpp"

namespace rtether::cli {

std::string default_control_path_here() {
  return control::default_control_path(std::getenv("RUNTIME_DIRECTORY"),
                                       std::getenv("XDG_RUNTIME_DIR"),
                                       static_cast<long>(::geteuid()));
}

void add_control_option(CLI::App* command, ControlOption& control) {
  control.option =
      command
          ->add_option("--control", control.path,
                       "Listen for `rtether status` and `rtether forward` on a UNIX socket "
                       "(mode 0600; this user and root only): PATH (@NAME: abstract), or "
                       "without one " +
                           default_control_path_here())
          ->expected(0, 1)
          ->type_name("[PATH]");
}

std::shared_ptr<control::ControlServer> open_control(
    const ControlOption& control, io::EventLoop& loop, relay::Relay& relay,
    control::ControlServer::ForwardCheck check_forward) {
  if (control.option->count() == 0) return nullptr;
  control::ControlServer::Options options;
  options.path = control.path;
  if (options.path.empty()) {
    options.path = default_control_path_here();
    io::make_private_folder(control::control_folder(options.path));
  }
  options.owner_uid = static_cast<long>(::geteuid());
  options.check_forward = std::move(check_forward);
  return std::make_shared<control::ControlServer>(loop, relay, std::move(options));
}

}  // namespace rtether::cli
