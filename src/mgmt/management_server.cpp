// The daemon's management socket thread; see management_server.hpp.
#include "mgmt/management_server.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "io/log.hpp"
#include "io/signal_watcher.hpp"

namespace rtether::mgmt {
namespace {

using Clock = std::chrono::steady_clock;
// How long fatal()/flush() wait for a slow UI to take the last lines.
constexpr auto kFlushTimeout = std::chrono::seconds(2);
constexpr std::size_t kReadChunk = 4096;
constexpr int kReadsPerWakeup = 64;
// UIs that wait while another one is served.
constexpr int kListenBacklog = 4;

io::Fd make_eventfd() {
  io::Fd fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!fd.valid()) throw std::system_error(errno, std::generic_category(), "eventfd");
  return fd;
}

void drain_eventfd(int fd) {
  eventfd_t value;
  eventfd_read(fd, &value);
}

}  // namespace

ManagementServer::ManagementServer(ServerOptions options, ManagementCore::Hooks hooks)
    : options_(std::move(options)),
      core_(options_.title, static_cast<long>(getpid()), options_.hold,
            [this, &hooks] {
              ManagementCore::Hooks with_link = std::move(hooks);
              with_link.network_change = [this](bool same) { return network_change(same); };
              return with_link;
            }()) {
  signals_ = io::block_into_signal_fd({SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2});
  wake_ = make_eventfd();
  interrupt_ = make_eventfd();
  using Mode = ServerOptions::Mode;
  switch (options_.mode) {
    case Mode::Listen: {
      try {
        listener_ = io::PrivateUnixListener(options_.path, kListenBacklog);
      } catch (const std::runtime_error& e) {
        throw std::runtime_error(std::string("management: ") + e.what());
      }
      log::info("management interface listening on {}", options_.path);
      break;
    }
    case Mode::Connect:
      try {
        ui_ = io::connect_unix_blocking(options_.path);
      } catch (const std::system_error& e) {
        throw std::runtime_error(std::string("management-client: ") + e.what());
      }
      break;
    case Mode::Attached:
      ui_ = std::move(options_.attached);
      break;
  }
  if (ui_.valid()) {
    io::set_nonblocking(ui_.get(), true);
    core_.on_connect();
    write_ui_locked();
  }
  thread_ = std::thread([this] { run(); });
}

ManagementServer::~ManagementServer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  kick();
  thread_.join();
}

void ManagementServer::kick() { eventfd_write(wake_.get(), 1); }

void ManagementServer::run() {
  Clock::time_point next_bytecount{};
  int bytecount_interval = 0;
  for (;;) {
    pollfd fds[4];
    int count = 0;
    int timeout = -1;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      fds[count++] = {signals_.get(), POLLIN, 0};
      fds[count++] = {wake_.get(), POLLIN, 0};
      if (ui_.valid()) {
        short events = POLLIN;
        if (!core_.output().empty()) events |= POLLOUT;
        fds[count++] = {ui_.get(), events, 0};
      } else if (listener_.valid()) {
        fds[count++] = {listener_.fd(), POLLIN, 0};
      }
      int interval = ui_.valid() ? core_.bytecount_interval() : 0;
      if (interval != bytecount_interval) {
        bytecount_interval = interval;
        next_bytecount = Clock::now() + std::chrono::seconds(interval);
      }
      if (bytecount_interval > 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next_bytecount -
                                                                          Clock::now());
        timeout = static_cast<int>(std::max<long long>(0, left.count()));
      }
    }
    if (poll(fds, static_cast<nfds_t>(count), timeout) < 0 && errno != EINTR) {
      log::error("management: poll: {}", std::strerror(errno));
      return;
    }
    std::unique_lock lock(mutex_);
    if (fds[0].revents) on_os_signal();
    if (fds[1].revents) drain_eventfd(wake_.get());
    if (count > 2 && fds[2].revents) {
      if (fds[2].fd == listener_.fd() && !ui_.valid()) {
        accept_ui();
      } else if (fds[2].fd == ui_.get()) {
        if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) read_ui();
      }
    }
    if (bytecount_interval > 0 && ui_.valid() && Clock::now() >= next_bytecount) {
      core_.emit_bytecount();
      next_bytecount += std::chrono::seconds(bytecount_interval);
      if (next_bytecount < Clock::now()) {
        next_bytecount = Clock::now() + std::chrono::seconds(bytecount_interval);
      }
    }
    if (ui_.valid()) write_ui_locked();
    changed_.notify_all();
  }
}

void ManagementServer::accept_ui() {
  auto accepted = io::accept_nonblocking(listener_.fd());
  if (!accepted) return;
  io::Fd peer = std::move(*accepted);
  long uid = io::peer_uid(peer.get());
  bool allowed = uid == static_cast<long>(geteuid()) ||
                 (options_.allowed_uid && uid == static_cast<long>(*options_.allowed_uid));
  if (!allowed) {
    log::warn("management: refused a connection from uid {} (allowed: {}{})", uid, geteuid(),
              options_.allowed_uid ? fmt::format(", {}", *options_.allowed_uid) : std::string());
    core_.log("W", fmt::format("MANAGEMENT: refused a client with uid {}", uid));
    return;
  }
  ui_ = std::move(peer);
  reader_ = LineReader();
  core_.on_connect();
  core_.log("I", "MANAGEMENT: Client connected from " + options_.path);
  log::info("management: client connected (uid {})", uid);
}

void ManagementServer::read_ui() {
  std::string buffer(kReadChunk, '\0');
  // Bounded per wake-up, and the replies go out (or count against
  // kMaxQueuedOutput) after every read: a UI that streams commands without
  // reading the replies neither holds the mutex nor grows the queue for ever.
  for (int reads = 0; reads < kReadsPerWakeup; ++reads) {
    std::vector<io::Fd> fds;
    auto got = io::receive_with_fds(
        ui_.get(), {reinterpret_cast<std::uint8_t*>(buffer.data()), buffer.size()}, fds);
    if (got.would_block() || got.error() == std::errc::interrupted) break;
    if (!got || *got == 0) {
      drop_ui_locked(got ? "closed the connection" : "connection error");
      return;
    }
    for (auto& fd : fds) core_.add_received_fd(std::move(fd));
    auto discarded = reader_.discarded_lines();
    for (const auto& line : reader_.feed(std::string_view(buffer.data(), *got))) {
      core_.handle_line(line);
      if (auto signal = core_.take_signal()) raise_locked(*signal);
    }
    for (auto i = discarded; i < reader_.discarded_lines(); ++i) core_.note_overlong_line();
    // Descriptors belong to the line they came with; once every line is
    // complete, any left over had no needok to go with.
    if (reader_.pending() == 0) core_.discard_received_fds();
    if (core_.take_close_request()) {
      write_ui_locked();
      drop_ui_locked("closed the session (exit)");
      return;
    }
    write_ui_locked();
    if (!ui_.valid()) return;
  }
}

void ManagementServer::write_ui_locked() {
  auto& output = core_.output();
  if (ui_.valid()) {
    // A UI that stops reading (but keeps its socket open) must not make the
    // daemon queue real-time lines for ever: past the limit it is dropped,
    // like one that went away.
    std::size_t queued = 0;
    for (const auto& chunk : output) queued += chunk.text.size();
    if (queued > kMaxQueuedOutput) {
      drop_ui_locked("stopped reading its output");
      return;
    }
  }
  while (ui_.valid() && !output.empty()) {
    auto& chunk = output.front();
    auto sent = io::send_with_fd(
        ui_.get(), {reinterpret_cast<const std::uint8_t*>(chunk.text.data()), chunk.text.size()},
        chunk.fd);
    if (sent.would_block() || sent.error() == std::errc::interrupted) return;  // POLLOUT resumes
    if (!sent) {
      drop_ui_locked("connection error");
      return;
    }
    chunk.fd = -1;  // went with the first byte
    chunk.text.erase(0, *sent);
    if (chunk.text.empty()) output.pop_front();
  }
}

void ManagementServer::drop_ui_locked(const char* why) {
  log::info("management: client {}", why);
  core_.on_disconnect();
  ui_.reset();
  reader_ = LineReader();
  if (options_.mode != ServerOptions::Mode::Listen && !stopping_) {
    // The UI owns the daemon's life in these roles (OpenVPN's
    // --management-client exits the same way).
    log::warn("management: UI gone, stopping");
    raise_locked(Signal::Term);
  }
}

void ManagementServer::on_os_signal() {
  signalfd_siginfo info;
  while (read(signals_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    Signal signal = Signal::Term;
    switch (static_cast<int>(info.ssi_signo)) {
      case SIGINT: signal = Signal::Int; break;
      case SIGHUP: signal = Signal::Hup; break;
      case SIGUSR1: signal = Signal::Usr1; break;
      case SIGUSR2: signal = Signal::Usr2; break;
      default: signal = Signal::Term; break;
    }
    if ((signal == Signal::Usr1 || signal == Signal::Hup) && core_.in_hold()) {
      core_.log("W", fmt::format("{} ignored while in hold", signal_name(signal)));
      continue;
    }
    raise_locked(signal);
  }
}

void ManagementServer::raise_locked(Signal signal) {
  if (signal == Signal::Usr2) {
    // OpenVPN prints its statistics to the log on SIGUSR2.
    core_.log("I", "SIGUSR2[soft,] received: see `status` for the statistics");
    return;
  }
  if (!pending_ || signal == Signal::Term || signal == Signal::Int) pending_ = signal;
  eventfd_write(interrupt_.get(), 1);
  changed_.notify_all();
}

bool ManagementServer::hold_flag() {
  std::lock_guard lock(mutex_);
  return core_.hold_flag();
}

bool ManagementServer::wait_hold_release(int wait_seconds) {
  std::unique_lock lock(mutex_);
  core_.begin_hold(wait_seconds);
  write_ui_locked();
  kick();
  for (;;) {
    if (core_.take_hold_release()) return true;
    if (pending_) {
      core_.cancel_query();
      return false;
    }
    changed_.wait(lock);
  }
}

std::optional<NeedOkAnswer> ManagementServer::need_ok(const std::string& type,
                                                      const std::string& payload, int fd) {
  std::unique_lock lock(mutex_);
  core_.begin_need_ok(type, payload, fd);
  write_ui_locked();
  kick();
  for (;;) {
    if (auto answer = core_.take_need_ok_answer()) return answer;
    if (pending_) {
      core_.cancel_query();
      return std::nullopt;
    }
    changed_.wait(lock);
  }
}

void ManagementServer::set_state(StateEntry entry) {
  std::lock_guard lock(mutex_);
  core_.set_state(std::move(entry));
  write_ui_locked();
  kick();
}

void ManagementServer::log(std::string flags, std::string text) {
  std::lock_guard lock(mutex_);
  core_.log(std::move(flags), std::move(text));
  write_ui_locked();
  kick();
}

void ManagementServer::fatal(const std::string& text) {
  {
    std::lock_guard lock(mutex_);
    core_.fatal(text);
    write_ui_locked();
  }
  flush();
}

void ManagementServer::flush() {
  std::unique_lock lock(mutex_);
  kick();
  changed_.wait_for(lock, kFlushTimeout, [this] { return !ui_.valid() || core_.output().empty(); });
}

bool ManagementServer::wait_for_signal(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, delay, [this] { return pending_.has_value(); });
}

std::optional<Signal> ManagementServer::pending_signal() {
  std::lock_guard lock(mutex_);
  return pending_;
}

std::optional<Signal> ManagementServer::take_signal() {
  std::lock_guard lock(mutex_);
  drain_eventfd(interrupt_.get());
  return std::exchange(pending_, std::nullopt);
}

void ManagementServer::set_link(int fd, bool protectable) {
  std::lock_guard lock(mutex_);
  // A network-change reply still queued for a slow UI must not carry the
  // old link's number once the daemon closes it.
  if (link_fd_ != fd) core_.forget_descriptor(link_fd_);
  link_fd_ = fd;
  link_protectable_ = protectable;
}

int ManagementServer::network_change(bool same_network) {
  // Called by the core with the mutex held. A relay stream cannot survive a
  // change of network (its TCP connection is bound to the old addresses):
  // only "samenetwork" keeps it, re-protected; a loopback or UNIX link is
  // not affected by the network at all.
  if (link_fd_ < 0 || !link_protectable_) return -1;
  return same_network ? link_fd_ : -2;
}

}  // namespace rtether::mgmt
