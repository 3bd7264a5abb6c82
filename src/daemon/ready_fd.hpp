// ReadyFd: `--ready-fd N`, how a supervising process (`rtether shell`)
// learns that the tun is up and the relay connected: "ready <tun>\n" is
// written once, then the descriptor is closed, so the reader also sees EOF.
#pragma once

#include <string>

#include "io/socket.hpp"

namespace rtether::daemon {

class ReadyFd {
 public:
  // -1: nobody to tell. Throws std::runtime_error if `fd` is not open (so a
  // wrong number fails at start, not after connecting); marks it
  // close-on-exec.
  explicit ReadyFd(int fd);

  // Writes the line and closes the descriptor; later calls do nothing. A
  // reader that went away is logged, not fatal.
  void announce(const std::string& tun_name);

 private:
  io::Fd fd_;
};

}  // namespace rtether::daemon
