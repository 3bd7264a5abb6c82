// ControlServer: see control_server.hpp.
#include "control/control_server.hpp"

#include <exception>
#include <string>

#include "control/control_protocol.hpp"
#include "io/log.hpp"

namespace rtether::control {

namespace {
constexpr int kBacklog = 16;
constexpr std::size_t kReadChunk = 4096;
}  // namespace

class ControlServer::Listener final : public io::Handler {
 public:
  explicit Listener(ControlServer& server) : server_(server) {}
  void on_ready(io::Readiness) override { server_.accept_.accept(); }

 private:
  ControlServer& server_;
};

// One peer: reads request lines and answers each in turn. While a reply is
// not fully sent, nothing more is read or handled (one reply in flight).
class ControlServer::Connection final : public io::Handler {
 public:
  Connection(ControlServer& server, io::Fd fd)
      : server_(server), fd_(std::move(fd)), idle_(server.loop_, [this] { server_.close(*this); }) {
    server_.loop_.add(fd_.get(), io::Interest::Read, io::Trigger::Level, this);
    idle_.arm(server_.loop_.now() + server_.options_.idle_timeout);
  }
  ~Connection() override = default;

  // Out of the loop, timer cancelled, socket closed; destroyed after the
  // batch (events already fetched for it then find it closed).
  void stop() {
    if (!fd_.valid()) return;
    idle_.cancel();
    server_.loop_.remove(fd_.get());
    fd_.reset();
  }

  // A reply that is the last thing this peer gets.
  void send_final(const std::string& reply) {
    output_ = reply + '\n';
    closing_ = true;
    flush();
  }

  void on_ready(io::Readiness readiness) override {
    if (!fd_.valid()) return;
    idle_.arm(server_.loop_.now() + server_.options_.idle_timeout);
    if (!output_.empty()) {
      if (!readiness.writable && !readiness.error && !readiness.hangup) return;
      flush();
      // A reply sent in full lets the lines read meanwhile be answered.
      return answer_pending();
    }
    if (!readiness.readable_or_closed()) return;
    char chunk[kReadChunk];
    auto got = io::recv_some(fd_.get(), wire::MutableBytes{reinterpret_cast<std::uint8_t*>(chunk),
                                                           sizeof chunk});
    if (got.would_block()) return;
    if (!got || *got == 0) return server_.close(*this);
    input_.append(chunk, *got);
    answer_pending();
  }

 private:
  // Handles the complete lines read, one reply at a time (a loop, not a
  // recursion through flush: a buffer of many short lines stays flat).
  void answer_pending() {
    while (fd_.valid() && output_.empty() && !closing_) {
      auto newline = input_.find('\n');
      if (newline == std::string::npos) {
        if (input_.size() >= kMaxRequestBytes)
          send_final(error_reply("request longer than " + std::to_string(kMaxRequestBytes - 1) +
                                 " bytes"));
        return;
      }
      std::string line = input_.substr(0, newline);
      input_.erase(0, newline + 1);
      output_ = server_.handle(line) + '\n';
      flush();
    }
  }

  void flush() {
    while (!output_.empty()) {
      auto sent = io::send_some(
          fd_.get(),
          wire::Bytes{reinterpret_cast<const std::uint8_t*>(output_.data()), output_.size()});
      if (sent.would_block()) {
        server_.loop_.modify(fd_.get(), io::Interest::Write, io::Trigger::Level, this);
        return;
      }
      if (!sent) return server_.close(*this);
      output_.erase(0, *sent);
    }
    if (closing_) return server_.close(*this);
    server_.loop_.modify(fd_.get(), io::Interest::Read, io::Trigger::Level, this);
  }

  ControlServer& server_;
  io::Fd fd_;
  io::Timer idle_;
  std::string input_;
  std::string output_;
  bool closing_ = false;
};

ControlServer::ControlServer(io::EventLoop& loop, relay::Relay& relay, Options options)
    : loop_(loop),
      relay_(relay),
      options_(std::move(options)),
      socket_(options_.path, kBacklog),
      listener_(std::make_unique<Listener>(*this)),
      accept_(loop, "control", [this](io::Fd fd) { accept(std::move(fd)); }) {
  accept_.watch(socket_.fd(), listener_.get());
  log::info("control socket listening on {}", options_.path);
}

ControlServer::~ControlServer() {
  for (auto& [raw, connection] : connections_) connection->stop();
  accept_.stop();
}

void ControlServer::accept(io::Fd fd) {
  const long uid = io::peer_uid(fd.get());
  const bool allowed = uid >= 0 && (uid == options_.owner_uid || uid == 0);
  auto connection = std::make_unique<Connection>(*this, std::move(fd));
  Connection* raw = connection.get();
  connections_.emplace(raw, std::move(connection));
  if (!allowed) {
    log::warn("control: refused a connection from uid {} (allowed: {} and root)", uid,
              options_.owner_uid);
    raw->send_final(
        error_reply("refused: uid " + std::to_string(uid) + " may not use this control socket"));
  } else if (connections_.size() > options_.max_connections) {
    raw->send_final(error_reply("too many control connections (at most " +
                                std::to_string(options_.max_connections) + ")"));
  }
}

void ControlServer::close(Connection& connection) {
  auto found = connections_.find(&connection);
  if (found == connections_.end()) return;
  connection.stop();
  // Destroyed after the batch (the loop's rule for handlers); the deferred
  // callback must be copyable, hence the shared_ptr.
  std::shared_ptr<Connection> retired(std::move(found->second));
  connections_.erase(found);
  loop_.defer([retired] {});
}

std::string ControlServer::handle(std::string_view line) {
  std::string error;
  auto request = parse_request(line, error);
  if (!request) return error_reply(error);
  switch (request->command) {
    case Command::Status:
      return status_reply(snapshot_of(relay_));
    case Command::ForwardList:
      return forward_list_reply(relay_.forwards());
    case Command::ForwardAdd: {
      const std::string text = request->rule.to_string();
      if (options_.check_forward) {
        auto refused = options_.check_forward(request->rule, text);
        if (!refused.empty()) return error_reply(refused);
      }
      try {
        relay_.add_forward(request->rule);
      } catch (const std::exception& e) {
        return error_reply(e.what());
      }
      log::info("control: forward {} added", text);
      return forward_reply(request->rule);
    }
    case Command::ForwardRemove:
      if (!relay_.remove_forward(request->rule))
        return error_reply("no forward " + request->rule.to_string() +
                           " (rtether forward list shows them)");
      return forward_reply(request->rule);
  }
  return error_reply("unknown command");
}

}  // namespace rtether::control
