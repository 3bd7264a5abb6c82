// WsaPollPoller: the Windows Poller, on WSAPoll (level-triggered). Read
// watches POLLRDNORM, Write POLLWRNORM; POLLERR, POLLHUP and POLLNVAL come
// regardless. Edge registrations are emulated (edge_rearm.hpp): a reported
// direction is disarmed until the handler's io call in that direction would
// block, and an error or the peer's close is reported once, so a closed
// socket nobody reads cannot spin the loop. Why WSAPoll and not
// IOCP or WSAEventSelect: src/io/README.md. wake() sends a datagram to a
// loopback UDP socket connected to itself, polled beside the registrations.
#include <winsock2.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "io/poller.hpp"
#include "io/windows/edge_rearm.hpp"
#include "io/windows/winsock.hpp"

namespace rtether::io {

namespace {

constexpr std::uint8_t bit(Interest interest) { return static_cast<std::uint8_t>(interest); }

// How often peeked sockets and stale hang-ups are looked at (see wait()).
constexpr std::chrono::milliseconds kWatchStep{1};

class WsaPollPoller;
// The pollers made on this thread, for rearm_after_io(): an fd belongs to
// at most one of them (usually the only one).
thread_local std::vector<WsaPollPoller*> thread_pollers;

class WsaPollPoller final : public Poller {
 public:
  WsaPollPoller() : wake_socket_(open_wake_socket()) { thread_pollers.push_back(this); }
  ~WsaPollPoller() override {
    std::erase(thread_pollers, this);
    ::closesocket(wake_socket_);
    ::WSACleanup();
  }

  void wake() override {
    const char byte = 0;
    // Fails only when the socket's queue is full: woken already.
    ::send(wake_socket_, &byte, 1, 0);
  }

  void add(int fd, Interest interest, Trigger trigger, Handler* handler) override {
    if (to_socket(fd) == INVALID_SOCKET)
      throw std::system_error(std::make_error_code(std::errc::bad_file_descriptor), "WSAPoll add");
    auto [entry, added] = entries_.try_emplace(fd);
    if (!added)
      throw std::system_error(std::make_error_code(std::errc::file_exists), "WSAPoll add");
    entry->second = Entry{handler, interest, trigger, bit(interest)};
    entry->second.order = next_order_++;
  }
  void modify(int fd, Interest interest, Trigger trigger, Handler* handler) override {
    auto entry = entries_.find(fd);
    if (entry == entries_.end())
      throw std::system_error(std::make_error_code(std::errc::no_such_file_or_directory),
                              "WSAPoll modify");
    // As EPOLL_CTL_MOD: the new interest is reported as it stands now.
    const Entry old = entry->second;
    entry->second = Entry{handler, interest, trigger, bit(interest)};
    entry->second.hangup_reported = old.hangup_reported;
    entry->second.order = old.order;
  }
  void remove(int fd) override { entries_.erase(fd); }

  std::span<const ReadyHandler> wait(std::chrono::milliseconds timeout) override {
    ready_.clear();
    woken_ = false;
    // Two things WSAPoll cannot wait for: more bytes on a socket that was
    // peeked (it is readable all along), and room on a socket whose peer
    // closed (its POLLHUP, told already, would end each wait at once). While
    // either is watched, those sockets are looked at without waiting and the
    // others waited for in steps of kWatchStep, so the loop neither spins
    // nor learns of those more than a step late.
    if (!stepped_wait_needed()) {
      if (!poll_once(timeout, true)) return {};
      return ready_;
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      check_growth();
      if (!poll_once(std::chrono::milliseconds(0), true) || !ready_.empty() || woken_)
        return ready_;
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return ready_;
      if (!poll_once(std::min(left, kWatchStep), false) || !ready_.empty() || woken_)
        return ready_;
    }
  }

  bool watches(int fd) const { return entries_.contains(fd); }
  bool reset(int fd) const {
    auto entry = entries_.find(fd);
    return entry != entries_.end() && entry->second.reset;
  }

  void rearm(int fd, Interest direction) {
    Entry* entry = edge_entry(fd);
    if (entry == nullptr) return;
    entry->armed |= bit(direction) & bit(entry->interest);
    entry->error_reported = false;
    if (direction == Interest::Read) entry->watch_growth = false;
  }
  void rearm_after_peek(int fd, std::size_t queued) {
    Entry* entry = edge_entry(fd);
    if (entry == nullptr || !wants(entry->interest, Interest::Read)) return;
    entry->armed &= ~bit(Interest::Read);
    entry->watch_growth = true;
    entry->peeked = queued;
  }
  void note_consumed(int fd, std::size_t bytes) {
    Entry* entry = edge_entry(fd);
    if (entry == nullptr) return;
    entry->peeked = entry->peeked > bytes ? entry->peeked - bytes : 0;
  }

 private:
  struct Entry {
    Handler* handler = nullptr;
    Interest interest = Interest::Read;
    Trigger trigger = Trigger::Edge;
    std::uint8_t armed = 0;        // Interest bits an Edge registration still reports
    bool error_reported = false;   // since the last rearm
    bool hangup_reported = false;  // the peer's close, for good
    bool watch_growth = false;     // Read waits for more than `peeked` queued bytes
    std::size_t peeked = 0;
    std::uint64_t order = 0;  // of registration: the order handlers are told
    bool reset = false;       // POLLERR with POLLHUP was seen (see reset_seen())
  };

  // Its own WSAStartup, so a poller works before (or without) the process's.
  static SOCKET open_wake_socket() {
    WSADATA data;
    if (int error = ::WSAStartup(MAKEWORD(2, 2), &data); error != 0)
      throw std::system_error(winsock_error(error), "WSAStartup for the poller");
    SOCKET socket = ::socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int length = sizeof address;
    u_long nonblocking = 1;
    if (socket == INVALID_SOCKET ||
        ::bind(socket, reinterpret_cast<sockaddr*>(&address), sizeof address) == SOCKET_ERROR ||
        ::getsockname(socket, reinterpret_cast<sockaddr*>(&address), &length) == SOCKET_ERROR ||
        ::connect(socket, reinterpret_cast<sockaddr*>(&address), sizeof address) == SOCKET_ERROR ||
        ::ioctlsocket(socket, FIONBIO, &nonblocking) == SOCKET_ERROR) {
      const std::error_code error = last_winsock_error();
      if (socket != INVALID_SOCKET) ::closesocket(socket);
      ::WSACleanup();
      throw std::system_error(error, "the poller's wake socket");
    }
    return socket;
  }

  void drain_wake_socket() {
    char bytes[64];
    while (::recv(wake_socket_, bytes, sizeof bytes, 0) > 0) {
    }
    woken_ = true;
  }

  Entry* edge_entry(int fd) {
    auto entry = entries_.find(fd);
    if (entry == entries_.end() || entry->second.trigger == Trigger::Level) return nullptr;
    return &entry->second;
  }

  // Reports Read for each socket watched after a peek whose queue grew past
  // what was peeked (or that FIONREAD cannot tell about any more).
  void check_growth() {
    for (auto& [fd, entry] : entries_) {
      if (!entry.watch_growth) continue;
      u_long queued = 0;
      const bool known = ::ioctlsocket(to_socket(fd), FIONREAD, &queued) != SOCKET_ERROR;
      if (known && queued <= entry.peeked) continue;
      entry.watch_growth = false;
      Readiness readiness;
      readiness.readable = true;
      found_.push_back({entry.order, {entry.handler, readiness}});
    }
    publish_found();
  }

  // An Edge socket whose POLLHUP was reported: WSAPoll will say it again.
  static bool stale_hangup(const Entry& entry) {
    return entry.trigger == Trigger::Edge && entry.hangup_reported;
  }
  // Whether the wait goes in steps: a stale hang-up or a peek is watched.
  bool stepped_wait_needed() const {
    return std::any_of(entries_.begin(), entries_.end(), [](const auto& item) {
      return item.second.watch_growth ||
             (stale_hangup(item.second) && (item.second.armed & bit(Interest::Write)) != 0);
    });
  }

  // One WSAPoll over the registrations (without the stale hang-ups unless
  // `with_stale`), adding what it reports to ready_. False when the wait was
  // interrupted.
  bool poll_once(std::chrono::milliseconds timeout, bool with_stale) {
    polled_.clear();
    fds_.clear();
    for (auto& [fd, entry] : entries_) {
      const std::uint8_t directions =
          entry.trigger == Trigger::Level ? bit(entry.interest) : entry.armed;
      // Nothing armed and its error or close already told: nothing left to
      // report until a rearm.
      if (entry.trigger == Trigger::Edge && directions == 0 &&
          (entry.error_reported || entry.hangup_reported))
        continue;
      if (!with_stale && stale_hangup(entry)) continue;
      WSAPOLLFD polled{};
      polled.fd = to_socket(fd);
      if (directions & bit(Interest::Read)) polled.events |= POLLRDNORM;
      if (directions & bit(Interest::Write)) polled.events |= POLLWRNORM;
      polled_.push_back(polled);
      fds_.push_back(fd);
    }
    WSAPOLLFD wake{};
    wake.fd = wake_socket_;
    wake.events = POLLRDNORM;
    polled_.push_back(wake);
    fds_.push_back(kWakeFd);
    // Never an empty set (WSAPoll refuses one): the wake socket is in it.
    const int milliseconds = static_cast<int>(timeout.count());
    const int count = ::WSAPoll(polled_.data(), static_cast<ULONG>(polled_.size()), milliseconds);
    if (count == SOCKET_ERROR) {
      const int error = ::WSAGetLastError();
      if (error == WSAEINTR) return false;
      throw std::system_error(winsock_error(error), "WSAPoll");
    }
    for (std::size_t i = 0; i < polled_.size() && count > 0; ++i) {
      const SHORT events = polled_[i].revents;
      if (events == 0) continue;
      if (fds_[i] == kWakeFd) {
        drain_wake_socket();
        continue;
      }
      Entry& entry = entries_.at(fds_[i]);
      Readiness readiness;
      readiness.readable = (events & POLLRDNORM) != 0;
      readiness.writable = (events & POLLWRNORM) != 0;
      readiness.error = (events & (POLLERR | POLLNVAL)) != 0;
      // POLLHUP comes with the peer's FIN (Wine sets it without
      // POLLRDNORM): Linux's EPOLLRDHUP, our side may still send. With an
      // error it is the whole connection (a refused connect, a reset).
      const bool closed = (events & POLLHUP) != 0;
      readiness.peer_closed = closed;
      readiness.hangup = closed && readiness.error;
      if (readiness.hangup) entry.reset = true;
      if (entry.trigger == Trigger::Edge) {
        const bool stale = closed && entry.hangup_reported;
        if (stale && !readiness.readable && !readiness.writable && !readiness.error) continue;
        // The end of stream is the read direction's last news.
        if (readiness.readable || closed) entry.armed &= ~bit(Interest::Read);
        if (readiness.writable) entry.armed &= ~bit(Interest::Write);
        if (readiness.error) entry.error_reported = true;
        if (closed) entry.hangup_reported = true;
      }
      found_.push_back({entry.order, {entry.handler, readiness}});
    }
    publish_found();
    return true;
  }

  // Appends what a look found to ready_, oldest registration first (a
  // client's link before the flows it opened), as epoll reports the older
  // event first; entries_ has no order of its own.
  void publish_found() {
    std::sort(found_.begin(), found_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [order, ready] : found_) ready_.push_back(ready);
    found_.clear();
  }

  static constexpr int kWakeFd = -1;  // the wake socket's place in fds_
  SOCKET wake_socket_;
  bool woken_ = false;  // in this wait()
  std::unordered_map<int, Entry> entries_;
  std::uint64_t next_order_ = 0;
  std::vector<std::pair<std::uint64_t, ReadyHandler>> found_;
  std::vector<WSAPOLLFD> polled_;
  std::vector<int> fds_;  // the fd of each polled_ entry
  std::vector<ReadyHandler> ready_;
};

}  // namespace

// The poller of this thread that watches fd, if any.
WsaPollPoller* watching(int fd) {
  for (WsaPollPoller* poller : thread_pollers)
    if (poller->watches(fd)) return poller;
  return nullptr;
}

void rearm_after_io(int fd, Interest direction) {
  if (auto* poller = watching(fd)) poller->rearm(fd, direction);
}
void rearm_after_peek(int fd, std::size_t queued) {
  if (auto* poller = watching(fd)) poller->rearm_after_peek(fd, queued);
}
void note_consumed(int fd, std::size_t bytes) {
  if (auto* poller = watching(fd)) poller->note_consumed(fd, bytes);
}
bool reset_seen(int fd) {
  auto* poller = watching(fd);
  return poller != nullptr && poller->reset(fd);
}

std::unique_ptr<Poller> make_poller() { return std::make_unique<WsaPollPoller>(); }

}  // namespace rtether::io
