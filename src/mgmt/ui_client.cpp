// The UI's socket loop; see ui_client.hpp.
#include "mgmt/ui_client.hpp"

#include <poll.h>

#include <cerrno>

#include "io/log.hpp"

namespace rtether::mgmt {

UiClient::UiClient(io::Fd socket, UiSession& session)
    : socket_(std::move(socket)), session_(session) {
  io::set_nonblocking(socket_.get(), true);
}

void UiClient::send(std::vector<UiCommand> commands) {
  for (auto& command : commands) outbox_.push_back(std::move(command));
}

bool UiClient::run(const std::vector<Watch>& watches) {
  send(session_.on_connect());
  for (;;) {
    if (!flush()) return false;
    std::vector<pollfd> fds;
    fds.push_back({socket_.get(), static_cast<short>(POLLIN | (outbox_.empty() ? 0 : POLLOUT)), 0});
    for (const auto& watch : watches) fds.push_back({watch.fd, POLLIN, 0});
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    for (std::size_t i = 1; i < fds.size(); ++i) {
      if (fds[i].revents) watches[i - 1].on_readable();
    }
    if (abandoned_) return false;
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) && !read_daemon()) return true;
  }
}

bool UiClient::read_daemon() {
  char buffer[4096];
  for (;;) {
    std::vector<io::Fd> fds;
    auto got = io::receive_with_fds(
        socket_.get(), {reinterpret_cast<std::uint8_t*>(buffer), sizeof buffer}, fds);
    if (got.would_block() || got.error() == std::errc::interrupted) return true;
    if (!got || *got == 0) return false;  // the daemon closed the session
    // A descriptor rides on the first byte of the line it belongs to, and
    // that line may complete only in a later read (a partial write, or a
    // full read buffer): keep it until a line that takes one is complete.
    for (auto& fd : fds) received_fds_.push_back(std::move(fd));
    auto lines = reader_.feed(std::string_view(buffer, *got));
    for (auto& line : lines) {
      log::debug("management << {}", line);
      io::Fd fd;
      bool wants_fd = line.rfind(">NEED-OK:Need 'PROTECTFD'", 0) == 0 || line.rfind("PROTECTFD:", 0) == 0;
      if (wants_fd && !received_fds_.empty()) {
        fd = std::move(received_fds_.front());
        received_fds_.pop_front();
      }
      send(session_.on_line(line, std::move(fd)));
    }
    if (reader_.pending() == 0 && !received_fds_.empty()) {
      log::debug("management: dropped {} descriptor(s) that came with no line needing one",
                 received_fds_.size());
      received_fds_.clear();
    }
  }
}

bool UiClient::flush() {
  while (!outbox_.empty()) {
    auto& command = outbox_.front();
    std::string_view rest = std::string_view(command.line).substr(outbox_sent_);
    auto sent = io::send_with_fd(
        socket_.get(), {reinterpret_cast<const std::uint8_t*>(rest.data()), rest.size()},
        outbox_sent_ == 0 ? command.fd.get() : -1);
    if (sent.would_block() || sent.error() == std::errc::interrupted) return true;
    if (!sent) return false;
    outbox_sent_ += *sent;
    if (outbox_sent_ == command.line.size()) {
      outbox_.erase(outbox_.begin());  // closes our copy of a sent descriptor
      outbox_sent_ = 0;
    }
  }
  return true;
}

}  // namespace rtether::mgmt
