// --control on Windows: listed, refused. Windows 10 has AF_UNIX sockets,
// but no SO_PEERCRED to tell who connects and no file mode to keep others
// out, so the relay opens no control socket there (control/README.md).
#include "cli/control_option.hpp"

#include <stdexcept>

namespace rtether::cli {

void add_control_option(CLI::App* command, ControlOption& control) {
  control.option = command
                       ->add_option("--control", control.path,
                                    "The relay's control socket (Linux only: refused here)")
                       ->expected(0, 1)
                       ->type_name("[PATH]");
}

std::shared_ptr<control::ControlServer> open_control(const ControlOption& control, io::EventLoop&,
                                                     relay::Relay&,
                                                     control::ControlServer::ForwardCheck) {
  if (control.option->count() == 0) return nullptr;
  throw std::runtime_error(
      "--control: the control socket is Linux only (Windows has no SO_PEERCRED to check who "
      "connects); rtether status and rtether forward are Linux only too");
}

}  // namespace rtether::cli
