// AcceptPause: see accept_pause.hpp.
#include "io/accept_pause.hpp"

#include "io/log.hpp"

namespace rtether::io {

AcceptPause::AcceptPause(EventLoop& loop, std::string label, Accepted accepted)
    : loop_(loop),
      label_(std::move(label)),
      accepted_(std::move(accepted)),
      resume_timer_(loop, [this] { resume(); }) {}

void AcceptPause::watch(int fd, Handler* handler) {
  fd_ = fd;
  handler_ = handler;
  loop_.add(fd_, Interest::Read, Trigger::Level, handler_);
  watching_ = true;
}

void AcceptPause::accept() {
  if (!watching_) return;
  if (auto error = accept_pending(fd_, accepted_)) pause_after(error);
}

void AcceptPause::stop() {
  resume_timer_.cancel();
  if (watching_) loop_.remove(fd_);
  watching_ = false;
  fd_ = -1;
}

void AcceptPause::pause_after(const std::error_code& error) {
  if (failed_tries_++ == 0)
    log::warn("{}: accept failed: {}; retrying every {} ms", label_, error.message(),
              kAcceptPause.count());
  loop_.remove(fd_);
  watching_ = false;
  resume_timer_.arm(loop_.now() + kAcceptPause);
}

void AcceptPause::resume() {
  loop_.add(fd_, Interest::Read, Trigger::Level, handler_);
  watching_ = true;
  // Whatever is queued is tried at once; a success ends the streak.
  const std::uint64_t before = failed_tries_;
  accept();
  if (failed_tries_ == before && before > 0) {
    log::info("{}: accepting again after {} failed tries", label_, before);
    failed_tries_ = 0;
  }
}

}  // namespace rtether::io
