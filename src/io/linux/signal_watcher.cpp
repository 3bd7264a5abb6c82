// SignalWatcher: signalfd-based signal delivery; see the header.
#include "io/signal_watcher.hpp"

#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <system_error>

namespace rtether::io {

Fd block_into_signal_fd(std::initializer_list<int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int signal : signals) sigaddset(&set, signal);
  if (int error = pthread_sigmask(SIG_BLOCK, &set, nullptr); error != 0)
    throw std::system_error(error, std::generic_category(), "pthread_sigmask");
  Fd fd{::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)};
  if (!fd.valid()) throw std::system_error(errno, std::generic_category(), "signalfd");
  return fd;
}

SignalWatcher::SignalWatcher(EventLoop& loop, std::initializer_list<int> signals,
                             std::function<void(int)> callback)
    : loop_(loop), fd_(block_into_signal_fd(signals)), callback_(std::move(callback)) {
  loop_.add(fd_.get(), Interest::Read, Trigger::Level, this);
}

SignalWatcher::~SignalWatcher() { loop_.remove(fd_.get()); }

void SignalWatcher::pass_next_interrupt() {
  signalfd_siginfo pending;
  while (::read(fd_.get(), &pending, sizeof pending) == static_cast<ssize_t>(sizeof pending)) {
  }
  // Unblocked only now: a Ctrl+C still pending would be delivered at once.
  sigset_t interrupt;
  sigemptyset(&interrupt);
  sigaddset(&interrupt, SIGINT);
  pthread_sigmask(SIG_UNBLOCK, &interrupt, nullptr);
}

void SignalWatcher::on_ready(Readiness) {
  signalfd_siginfo info;
  while (::read(fd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info))
    callback_(static_cast<int>(info.ssi_signo));
}

}  // namespace rtether::io
