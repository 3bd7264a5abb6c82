// EpollPoller: the Linux Poller. Interest::Read watches EPOLLIN and
// EPOLLRDHUP (the peer's half-close), Write watches EPOLLOUT, Edge adds
// EPOLLET; EPOLLERR and EPOLLHUP come regardless. The Handler pointer rides
// in epoll_data, so dispatch needs no lookup.
#include <sys/epoll.h>
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
    ready_.reserve(kMaxEventsPerWait);
  }
  ~EpollPoller() override { ::close(epoll_fd_); }

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
    for (int i = 0; i < count; ++i)
      ready_.push_back(
          {static_cast<Handler*>(events_[i].data.ptr), readiness_of(events_[i].events)});
    return ready_;
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
  epoll_event events_[kMaxEventsPerWait];
  std::vector<ReadyHandler> ready_;
};

}  // namespace

std::unique_ptr<Poller> make_poller() { return std::make_unique<EpollPoller>(); }

}  // namespace rtether::io
