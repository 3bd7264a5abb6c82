// UiClient: runs a UiSession over a connected management socket: reads the
// daemon's lines (with the descriptors passed along them), sends the
// session's commands (with the tun fd for OPENTUN), and watches a few more
// fds the caller cares about (signals, a terminal). Single-threaded poll.
#pragma once

#include <deque>
#include <functional>
#include <vector>

#include "io/socket.hpp"
#include "mgmt/line_reader.hpp"
#include "mgmt/ui_session.hpp"

namespace rtether::mgmt {

class UiClient {
 public:
  UiClient(io::Fd socket, UiSession& session);

  struct Watch {
    int fd;
    std::function<void()> on_readable;
  };
  // Until the daemon closes the connection (true) or a socket error (false).
  bool run(const std::vector<Watch>& watches);

  // Queues commands (sent from run()).
  void send(std::vector<UiCommand> commands);
  // Makes run() return false at once (the user insists on leaving).
  void abandon() { abandoned_ = true; }

 private:
  bool read_daemon();
  bool flush();

  io::Fd socket_;
  UiSession& session_;
  LineReader reader_;
  // Descriptors received and not yet given to a line: one that came with
  // the first bytes of a line stays here until the line is complete.
  std::deque<io::Fd> received_fds_;
  std::vector<UiCommand> outbox_;
  std::size_t outbox_sent_ = 0;  // bytes of outbox_.front() already sent
  bool abandoned_ = false;
};

}  // namespace rtether::mgmt
