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
      ui_(ManagementCore(options_.title, static_cast<long>(getpid()),
                         options_.hold && !options_.tcp,
                         [this, &hooks] {
                           ManagementCore::Hooks with_link = hooks;
                           with_link.network_change = [this](bool same) {
                             return network_change(same);
                           };
                           return with_link;
                         }()),
          options_.mode != ServerOptions::Mode::Listen) {
  signals_ = io::block_into_signal_fd({SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2});
  wake_ = make_eventfd();
  interrupt_ = make_eventfd();
  using Mode = ServerOptions::Mode;
  switch (options_.mode) {
    case Mode::Listen: {
      try {
        ui_.unix_listener = io::PrivateUnixListener(options_.path, kListenBacklog);
      } catch (const std::runtime_error& e) {
        throw std::runtime_error(std::string("management: ") + e.what());
      }
      ui_.where = options_.path;
      ui_.core.require_password(options_.password);
      log::info("management interface listening on {}", options_.path);
      break;
    }
    case Mode::Connect:
      try {
        ui_.socket = io::connect_unix_blocking(options_.path);
      } catch (const std::system_error& e) {
        throw std::runtime_error(std::string("management-client: ") + e.what());
      }
      // OpenVPN asks the UI it connected to for the password too.
      ui_.core.require_password(options_.password);
      break;
    case Mode::Attached:
      ui_.socket = std::move(options_.attached);
      break;
  }
  if (options_.tcp) {
    // Desktop OpenVPN's interface: no network-change (an Android command).
    ManagementCore::Hooks monitor_hooks = hooks;
    monitor_hooks.network_change = nullptr;
    monitor_.emplace(ManagementCore(options_.title, static_cast<long>(getpid()), options_.hold,
                                    std::move(monitor_hooks)),
                     false);
    try {
      monitor_->tcp_listener = io::listen_tcp(*options_.tcp, kListenBacklog);
    } catch (const std::system_error& e) {
      throw std::runtime_error(std::string("management: ") + e.what());
    }
    auto bound = io::local_endpoint(monitor_->tcp_listener.get());
    tcp_endpoint_ = bound ? *bound : *options_.tcp;
    monitor_->where = fmt::format("{}:{}", tcp_endpoint_->address.to_string(), tcp_endpoint_->port);
    monitor_->core.require_password(options_.tcp_password);
    log::info("management interface listening on TCP {}", monitor_->where);
  }
  if (ui_.socket.valid()) {
    io::set_nonblocking(ui_.socket.get(), true);
    ui_.core.on_connect();
    write_locked(ui_);
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
  for (;;) {
    pollfd fds[4];
    Link* owners[4] = {};
    int count = 0;
    int timeout = -1;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      fds[count++] = {signals_.get(), POLLIN, 0};
      fds[count++] = {wake_.get(), POLLIN, 0};
      for (Link* link : {&ui_, monitor_ ? &*monitor_ : nullptr}) {
        if (!link) continue;
        if (link->socket.valid()) {
          short events = POLLIN;
          if (!link->core.output().empty()) events |= POLLOUT;
          owners[count] = link;
          fds[count++] = {link->socket.get(), events, 0};
        } else if (link->listener_fd() >= 0) {
          owners[count] = link;
          fds[count++] = {link->listener_fd(), POLLIN, 0};
        }
        int interval = link->socket.valid() ? link->core.bytecount_interval() : 0;
        if (interval != link->bytecount_interval) {
          link->bytecount_interval = interval;
          link->next_bytecount = Clock::now() + std::chrono::seconds(interval);
        }
        if (link->login_deadline) {
          auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*link->login_deadline -
                                                                            Clock::now());
          int wait = static_cast<int>(std::max<long long>(0, left.count()));
          timeout = timeout < 0 ? wait : std::min(timeout, wait);
        }
        if (link->bytecount_interval > 0) {
          auto left = std::chrono::duration_cast<std::chrono::milliseconds>(link->next_bytecount -
                                                                            Clock::now());
          int wait = static_cast<int>(std::max<long long>(0, left.count()));
          timeout = timeout < 0 ? wait : std::min(timeout, wait);
        }
      }
    }
    if (poll(fds, static_cast<nfds_t>(count), timeout) < 0 && errno != EINTR) {
      log::error("management: poll: {}", std::strerror(errno));
      return;
    }
    std::unique_lock lock(mutex_);
    if (fds[0].revents) on_os_signal();
    if (fds[1].revents) drain_eventfd(wake_.get());
    for (int i = 2; i < count; ++i) {
      Link& link = *owners[i];
      if (!fds[i].revents) continue;
      if (fds[i].fd == link.listener_fd() && !link.socket.valid()) {
        accept_client(link);
      } else if (fds[i].fd == link.socket.get() &&
                 (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
        read_client(link);
      }
    }
    for (Link* link : {&ui_, monitor_ ? &*monitor_ : nullptr}) {
      if (link) drop_if_login_late_locked(*link);
    }
    for (Link* link : {&ui_, monitor_ ? &*monitor_ : nullptr}) {
      if (!link || link->bytecount_interval <= 0 || !link->socket.valid()) continue;
      if (Clock::now() < link->next_bytecount) continue;
      link->core.emit_bytecount();
      link->next_bytecount += std::chrono::seconds(link->bytecount_interval);
      if (link->next_bytecount < Clock::now()) {
        link->next_bytecount = Clock::now() + std::chrono::seconds(link->bytecount_interval);
      }
    }
    write_all_locked();
    changed_.notify_all();
  }
}

void ManagementServer::accept_client(Link& link) {
  auto accepted = io::accept_nonblocking(link.listener_fd());
  if (!accepted) return;
  io::Fd peer = std::move(*accepted);
  if (link.unix_listener.valid()) {
    long uid = io::peer_uid(peer.get());
    bool allowed = uid == static_cast<long>(geteuid()) ||
                   (options_.allowed_uid && uid == static_cast<long>(*options_.allowed_uid));
    if (!allowed) {
      log::warn("management: refused a connection from uid {} (allowed: {}{})", uid, geteuid(),
                options_.allowed_uid ? fmt::format(", {}", *options_.allowed_uid) : std::string());
      link.core.log("W", fmt::format("MANAGEMENT: refused a client with uid {}", uid));
      return;
    }
  }
  link.socket = std::move(peer);
  link.reader = LineReader();
  link.core.on_connect();
  if (link.tcp_listener.valid() && link.core.password_needed()) {
    link.login_deadline = Clock::now() + options_.tcp_login_timeout;
  }
  link.core.log("I", "MANAGEMENT: Client connected from " + link.where);
  log::info("management: client connected on {}", link.where);
}

void ManagementServer::read_client(Link& link) {
  std::string buffer(kReadChunk, '\0');
  // Bounded per wake-up, and the replies go out (or count against
  // kMaxQueuedOutput) after every read: a UI that streams commands without
  // reading the replies neither holds the mutex nor grows the queue for ever.
  for (int reads = 0; reads < kReadsPerWakeup; ++reads) {
    std::vector<io::Fd> fds;
    auto got = io::receive_with_fds(
        link.socket.get(), {reinterpret_cast<std::uint8_t*>(buffer.data()), buffer.size()}, fds);
    if (got.would_block() || got.error() == std::errc::interrupted) break;
    if (!got || *got == 0) {
      drop_locked(link, got ? "closed the connection" : "connection error");
      return;
    }
    for (auto& fd : fds) link.core.add_received_fd(std::move(fd));
    auto discarded = link.reader.discarded_lines();
    auto lines = link.reader.feed(std::string_view(buffer.data(), *got));
    for (const auto& line : lines) {
      link.core.handle_line(line);
      if (auto signal = link.core.take_signal()) raise_locked(*signal);
      // The lines after a quit or the last failed password try are not run.
      if (link.core.close_requested()) break;
    }
    if (!link.core.password_needed()) link.login_deadline.reset();
    if (!lines.empty()) link.core.end_of_read();
    for (auto i = discarded; i < link.reader.discarded_lines(); ++i) link.core.note_overlong_line();
    // Descriptors belong to the line they came with; once every line is
    // complete, any left over had no needok to go with.
    if (link.reader.pending() == 0) link.core.discard_received_fds();
    if (link.core.take_close_request()) {
      write_locked(link);
      drop_locked(link, "closed the session");
      return;
    }
    write_locked(link);
    if (!link.socket.valid()) return;
  }
}

void ManagementServer::write_all_locked() {
  write_locked(ui_);
  if (monitor_) write_locked(*monitor_);
}

void ManagementServer::write_locked(Link& link) {
  auto& output = link.core.output();
  if (!link.socket.valid()) return;
  // A UI that stops reading (but keeps its socket open) must not make the
  // daemon queue real-time lines for ever: past the limit it is dropped,
  // like one that went away.
  std::size_t queued = 0;
  for (const auto& chunk : output) queued += chunk.text.size();
  if (queued > kMaxQueuedOutput) {
    drop_locked(link, "stopped reading its output");
    return;
  }
  while (link.socket.valid() && !output.empty()) {
    auto& chunk = output.front();
    auto sent = io::send_with_fd(
        link.socket.get(),
        {reinterpret_cast<const std::uint8_t*>(chunk.text.data()), chunk.text.size()}, chunk.fd);
    if (sent.would_block() || sent.error() == std::errc::interrupted) return;  // POLLOUT resumes
    if (!sent) {
      drop_locked(link, "connection error");
      return;
    }
    chunk.fd = -1;  // went with the first byte
    chunk.text.erase(0, *sent);
    if (chunk.text.empty()) output.pop_front();
  }
}

void ManagementServer::drop_if_login_late_locked(Link& link) {
  if (!link.login_deadline || !link.socket.valid() || Clock::now() < *link.login_deadline) return;
  auto seconds = std::chrono::duration<double>(options_.tcp_login_timeout).count();
  log::warn("management: no password from the client on {} within {}s, closing it", link.where,
            seconds);
  link.core.log("W", fmt::format("MAN: client connection closed: no password within {}s",
                                 seconds));
  drop_locked(link, "did not send the password in time");
}

void ManagementServer::drop_locked(Link& link, const char* why) {
  log::info("management: client {}", why);
  link.core.on_disconnect();
  link.socket.reset();
  link.reader = LineReader();
  link.login_deadline.reset();
  if (link.owns_daemon && !stopping_) {
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
    if ((signal == Signal::Usr1 || signal == Signal::Hup) && hold_link().core.in_hold()) {
      log_locked("W", fmt::format("{} ignored while in hold", signal_name(signal)));
      continue;
    }
    raise_locked(signal);
  }
}

void ManagementServer::raise_locked(Signal signal) {
  if (signal == Signal::Usr2) {
    // OpenVPN prints its statistics to the log on SIGUSR2.
    log_locked("I", "SIGUSR2[soft,] received: see `status` for the statistics");
    return;
  }
  if (!pending_ || signal == Signal::Term || signal == Signal::Int) pending_ = signal;
  eventfd_write(interrupt_.get(), 1);
  changed_.notify_all();
}

void ManagementServer::log_locked(const std::string& flags, const std::string& text) {
  ui_.core.log(flags, text);
  if (monitor_) monitor_->core.log(flags, text);
}

bool ManagementServer::hold_flag() {
  std::lock_guard lock(mutex_);
  return hold_link().core.hold_flag();
}

bool ManagementServer::wait_hold_release(int wait_seconds) {
  std::unique_lock lock(mutex_);
  Link& link = hold_link();
  link.core.begin_hold(wait_seconds);
  write_locked(link);
  kick();
  for (;;) {
    if (link.core.take_hold_release()) return true;
    if (pending_) {
      link.core.cancel_query();
      return false;
    }
    changed_.wait(lock);
  }
}

std::optional<NeedOkAnswer> ManagementServer::need_ok(const std::string& type,
                                                      const std::string& payload, int fd) {
  std::unique_lock lock(mutex_);
  ui_.core.begin_need_ok(type, payload, fd);
  write_locked(ui_);
  kick();
  for (;;) {
    if (auto answer = ui_.core.take_need_ok_answer()) return answer;
    if (pending_) {
      ui_.core.cancel_query();
      return std::nullopt;
    }
    changed_.wait(lock);
  }
}

void ManagementServer::set_state(StateEntry entry) {
  std::lock_guard lock(mutex_);
  if (monitor_) monitor_->core.set_state(entry);
  ui_.core.set_state(std::move(entry));
  write_all_locked();
  kick();
}

void ManagementServer::log(std::string flags, std::string text) {
  std::lock_guard lock(mutex_);
  log_locked(flags, text);
  write_all_locked();
  kick();
}

void ManagementServer::fatal(const std::string& text) {
  {
    std::lock_guard lock(mutex_);
    ui_.core.fatal(text);
    if (monitor_) monitor_->core.fatal(text);
    write_all_locked();
  }
  flush();
}

void ManagementServer::flush() {
  std::unique_lock lock(mutex_);
  kick();
  auto written = [](const Link& link) {
    return !link.socket.valid() || link.core.output().empty();
  };
  changed_.wait_for(lock, kFlushTimeout,
                    [&] { return written(ui_) && (!monitor_ || written(*monitor_)); });
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
  if (link_fd_ != fd) ui_.core.forget_descriptor(link_fd_);
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
