// InProcessUi; see in_process_ui.hpp.
#include "daemon/in_process_ui.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "io/log.hpp"

namespace rtether::daemon {

std::pair<io::Fd, io::Fd> InProcessUi::socket_pair() {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
    throw std::runtime_error(std::string("socketpair: ") + std::strerror(errno));
  }
  return {io::Fd(pair[0]), io::Fd(pair[1])};
}

InProcessUi::InProcessUi(io::Fd socket, std::string tun_name, std::string netns)
    : service_(std::move(tun_name), std::move(netns)),
      session_(service_,
               [](const mgmt::UiEvent& event) {
                 if (event.kind == mgmt::UiEvent::Kind::Fatal) log::error("{}", event.text);
               }),
      client_(std::move(socket), session_),
      thread_([this] { client_.run({}); }) {}

InProcessUi::~InProcessUi() { thread_.join(); }

}  // namespace rtether::daemon
