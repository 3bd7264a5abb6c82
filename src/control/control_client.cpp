// ControlClient: see control_client.hpp. A short-lived event loop of its
// own carries the exchange, so the deadline covers connect, send and reply.
#include "control/control_client.hpp"

#include <stdexcept>
#include <system_error>

#include "io/event_loop.hpp"
#include "io/socket.hpp"

namespace rtether::control {

namespace {
constexpr std::size_t kReadChunk = 65536;

class Exchange final : public io::Handler {
 public:
  Exchange(io::EventLoop& loop, io::Fd fd, std::string request)
      : loop_(loop), fd_(std::move(fd)), output_(std::move(request) + '\n') {
    loop_.add(fd_.get(), io::Interest::ReadWrite, io::Trigger::Level, this);
  }
  ~Exchange() override { loop_.remove(fd_.get()); }

  bool done() const { return done_; }
  const std::string& failure() const { return failure_; }
  std::string reply() const { return input_.substr(0, input_.find('\n')); }

  void on_ready(io::Readiness readiness) override {
    if (done_) return;
    if (!output_.empty() && (readiness.writable || readiness.error)) send();
    if (!done_ && readiness.readable_or_closed()) receive();
  }

 private:
  void fail(std::string why) {
    failure_ = std::move(why);
    done_ = true;
  }

  void send() {
    auto sent = io::send_some(
        fd_.get(),
        wire::Bytes{reinterpret_cast<const std::uint8_t*>(output_.data()), output_.size()});
    if (sent.would_block()) return;
    if (!sent) {
      // A relay that refuses a peer replies and closes before reading the
      // request: its reply is still queued here, and says why.
      send_error_ = sent.error();
      output_.clear();
    } else {
      output_.erase(0, *sent);
    }
    if (output_.empty()) loop_.modify(fd_.get(), io::Interest::Read, io::Trigger::Level, this);
  }

  void receive() {
    char chunk[kReadChunk];
    auto got = io::recv_some(
        fd_.get(), wire::MutableBytes{reinterpret_cast<std::uint8_t*>(chunk), sizeof chunk});
    if (got.would_block()) return;
    if (!got || *got == 0) {
      const std::error_code why = send_error_ ? send_error_ : got.error();
      return fail(why ? "the relay closed the connection (" + why.message() + ")"
                      : "the relay closed the connection without a reply");
    }
    input_.append(chunk, *got);
    if (input_.find('\n') != std::string::npos) {
      done_ = true;
    } else if (input_.size() > kMaxReplyBytes) {
      fail("the relay's reply is longer than " + std::to_string(kMaxReplyBytes) + " bytes");
    }
  }

  io::EventLoop& loop_;
  io::Fd fd_;
  std::string output_;
  std::string input_;
  std::string failure_;
  std::error_code send_error_;
  bool done_ = false;
};
}  // namespace

std::string exchange(const std::string& path, const std::string& request,
                     std::chrono::milliseconds timeout) {
  auto connection = io::connect_unix_nonblocking(path);
  if (!connection)
    throw std::runtime_error("cannot connect to the control socket " + path + ": " +
                             connection.error().message() +
                             " (is a relay running with --control?)");
  io::EventLoop loop;
  Exchange exchange(loop, std::move(connection->fd), request);
  const auto deadline = loop.refresh_now() + timeout;
  while (!exchange.done()) {
    const auto now = loop.refresh_now();
    if (now >= deadline)
      throw std::runtime_error("no reply from the control socket " + path + " within " +
                               std::to_string(timeout.count()) + " ms");
    loop.run_once(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                  std::chrono::milliseconds(1));
  }
  if (!exchange.failure().empty())
    throw std::runtime_error("control socket " + path + ": " + exchange.failure());
  return exchange.reply();
}

}  // namespace rtether::control
