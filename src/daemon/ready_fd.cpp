// ReadyFd; see ready_fd.hpp.
#include "daemon/ready_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "io/log.hpp"

namespace rtether::daemon {

ReadyFd::ReadyFd(int fd) {
  if (fd < 0) return;
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
    throw std::runtime_error("--ready-fd " + std::to_string(fd) +
                             " is not an open file descriptor");
  }
  fd_ = io::Fd(fd);
}

void ReadyFd::announce(const std::string& tun_name) {
  if (!fd_.valid()) return;
  std::string line = "ready " + tun_name + "\n";
  if (write(fd_.get(), line.data(), line.size()) < 0) {
    log::warn("cannot write to --ready-fd {}: {}", fd_.get(), std::strerror(errno));
  }
  fd_.reset();
}

}  // namespace rtether::daemon
