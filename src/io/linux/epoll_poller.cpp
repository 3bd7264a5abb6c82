// EpollPoller: the Linux Poller. Interest::Read watches EPOLLIN and
// EPOLLRDHUP (the peer's half-close), Write watches EPOLLOUT, Edge adds
// EPOLLET; EPOLLERR and EPOLLHUP come regardless. The Handler pointer rides
// in epoll_data, so dispatch needs no lookup. wake() writes an eventfd that
// is registered with no handler (a null pointer): wait() drains it and
// reports nothing for it.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

#include "io/poller.hpp"

namespace rtether::io {

namespace {

constexpr int kMaxEventsPerWait = 256;

std::uint32_t epoll_bits(Interest interest, Trigger trigger) {
  std::uint32_t bits = 0;
  if (wants(interest, Interest::Read)) bits |= EPOLLIN | EPOLLRDHUP;
  if (wants(interest, Interest::Write)) bits |= EPOLLOUT;
  if (trigger == Trigger::Edge) bits |= EPOLLET;
  return bits;
}

Readiness readiness_of(std::uint32_t bits) {
  Readiness readiness;
  readiness.readable = (bits & EPOLLIN) != 0;
  readiness.writable = (bits & EPOLLOUT) != 0;
  readiness.error = (bits & EPOLLERR) != 0;
  readiness.hangup = (bits & EPOLLHUP) != 0;
  readiness.peer_closed = (bits & EPOLLRDHUP) != 0;
  return readiness;
}

class EpollPoller final : public Poller {
 public:
  EpollPoller() : epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) {
      const int error = errno;
      ::close(epoll_fd_);
      throw std::system_error(error, std::generic_category(), "eventfd");
    }
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.ptr = nullptr;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event) < 0) {
      const int error = errno;
      ::close(wake_fd_);
      ::close(epoll_fd_);
      throw std::system_error(error, std::generic_category(), "epoll_ctl(ADD) of the wake fd");
    }
    ready_.reserve(kMaxEventsPerWait);
  }
  ~EpollPoller() override {
    ::close(wake_fd_);
    ::close(epoll_fd_);
  }

  void add(int fd, Interest interest, Trigger trigger, Handler* handler) override {
    control(EPOLL_CTL_ADD, fd, interest, trigger, handler, "epoll_ctl(ADD)");
  }
  void modify(int fd, Interest interest, Trigger trigger, Handler* handler) override {
    control(EPOLL_CTL_MOD, fd, interest, trigger, handler, "epoll_ctl(MOD)");
  }
  void remove(int fd) override { ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

  std::span<const ReadyHandler> wait(std::chrono::milliseconds timeout) override {
    ready_.clear();
    int count =
        ::epoll_wait(epoll_fd_, events_, kMaxEventsPerWait, static_cast<int>(timeout.count()));
    if (count < 0) {
      if (errno == EINTR) return {};
      throw std::system_error(errno, std::generic_category(), "epoll_wait");
    }
    for (int i = 0; i < count; ++i) {
      auto* handler = static_cast<Handler*>(events_[i].data.ptr);
      if (handler == nullptr) {
        std::uint64_t wakes = 0;
        // Nonblocking: a read that finds the counter cleared already is fine.
        [[maybe_unused]] auto got = ::read(wake_fd_, &wakes, sizeof wakes);
        continue;
      }
      ready_.push_back({handler, readiness_of(events_[i].events)});
    }
    return ready_;
  }

  void wake() override {
    const std::uint64_t one = 1;
    // Fails only when the counter is at its maximum: woken already.
    [[maybe_unused]] auto wrote = ::write(wake_fd_, &one, sizeof one);
  }

 private:
  void control(int operation, int fd, Interest interest, Trigger trigger, Handler* handler,
               const char* what) {
    epoll_event event{};
    event.events = epoll_bits(interest, trigger);
    event.data.ptr = handler;
    if (::epoll_ctl(epoll_fd_, operation, fd, &event) < 0)
      throw std::system_error(errno, std::generic_category(), what);
  }

  int epoll_fd_;
  int wake_fd_ = -1;
  epoll_event events_[kMaxEventsPerWait];
  std::vector<ReadyHandler> ready_;
};

}  // namespace

std::unique_ptr<Poller> make_poller() { return std::make_unique<EpollPoller>(); }

}  // namespace rtether::io
