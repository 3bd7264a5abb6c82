// MetricsServer: see metrics_server.hpp.
#include "relay/metrics_server.hpp"

#include <vector>

#include "io/log.hpp"
#include "wire/http_response.hpp"
#include "wire/prometheus_text.hpp"

namespace rtether::relay {

class MetricsServer::Connection : public io::Handler {
 public:
  Connection(MetricsServer& server, io::Fd fd)
      : server_(server), fd_(std::move(fd)), timer_(server.loop_, [this] { close(); }) {
    request_.reserve(server_.limits_.max_request_bytes);
    server_.loop_.add(fd_.get(), io::Interest::Read, io::Trigger::Level, this);
    timer_.arm(server_.loop_.now() + server_.limits_.connection_timeout);
  }
  ~Connection() override {
    if (state_ != State::Closed) server_.loop_.remove(fd_.get());
  }

  bool closed() const { return state_ == State::Closed; }

  void on_ready(io::Readiness) override {
    switch (state_) {
      case State::Reading:
        read_request();
        break;
      case State::Writing:
        write_response();
        break;
      case State::Draining:
        drain();
        break;
      case State::Closed:
        break;
    }
  }

 private:
  enum class State { Reading, Writing, Draining, Closed };

  void read_request() {
    const std::size_t limit = server_.limits_.max_request_bytes;
    std::size_t used = request_.size();
    request_.resize(limit);
    auto got = io::recv_some(fd_.get(), wire::MutableBytes(request_).subspan(used));
    request_.resize(used + (got ? *got : 0));
    if (got.would_block()) return;
    if (!got || *got == 0) return close();  // gone before a whole head
    auto head = wire::parse_http_request(request_, limit);
    if (head.status == wire::HttpParseStatus::Incomplete) return;
    response_ = respond(head, server_.render_);
    state_ = State::Writing;
    server_.loop_.modify(fd_.get(), io::Interest::Write, io::Trigger::Level, this);
    write_response();
  }

  void write_response() {
    while (sent_ < response_.size()) {
      auto wrote = io::send_some(
          fd_.get(), wire::Bytes(reinterpret_cast<const std::uint8_t*>(response_.data() + sent_),
                                 response_.size() - sent_));
      if (wrote.would_block()) return;
      if (!wrote) return close();
      sent_ += *wrote;
    }
    if (io::shutdown_write(fd_.get())) return close();
    state_ = State::Draining;
    server_.loop_.modify(fd_.get(), io::Interest::Read, io::Trigger::Level, this);
  }

  // Reads whatever the client still sends until it closes (or the timer).
  void drain() {
    std::uint8_t discarded[2048];
    auto got = io::recv_some(fd_.get(), discarded);
    if (got.would_block()) return;
    if (!got || *got == 0) close();
  }

  void close() {
    if (state_ == State::Closed) return;
    state_ = State::Closed;
    timer_.cancel();
    server_.loop_.remove(fd_.get());
    fd_.reset();
    server_.reap_task_.schedule();
  }

  MetricsServer& server_;
  io::Fd fd_;
  io::Timer timer_;
  State state_ = State::Reading;
  std::vector<std::uint8_t> request_;
  std::string response_;
  std::size_t sent_ = 0;
};

MetricsServer::MetricsServer(io::EventLoop& loop, const io::Endpoint& at, Render render,
                             MetricsServerLimits limits)
    : loop_(loop),
      render_(std::move(render)),
      limits_(limits),
      listen_fd_(io::listen_tcp(at, static_cast<int>(limits.max_connections))),
      endpoint_(at),
      accept_(loop, "metrics", [this](io::Fd fd) { accept(std::move(fd)); }),
      reap_task_(loop, [this] { reap(); }) {
  if (auto bound = io::local_endpoint(listen_fd_.get())) endpoint_ = *bound;
  accept_.watch(listen_fd_.get(), &listener_);
  log::info("metrics on http://{}:{}/metrics", endpoint_.address.to_string(), endpoint_.port);
}

MetricsServer::~MetricsServer() {
  connections_.clear();
  accept_.stop();
}

void MetricsServer::Listener::on_ready(io::Readiness) { server_.accept_.accept(); }

void MetricsServer::accept(io::Fd fd) {
  // Past the limit the connection is closed at once: a scraper retries at
  // its next interval, a flood costs an accept and a close.
  if (connections_.size() >= limits_.max_connections) return;
  connections_.push_back(std::make_unique<Connection>(*this, std::move(fd)));
}

void MetricsServer::reap() {
  connections_.remove_if([](const std::unique_ptr<Connection>& c) { return c->closed(); });
}

std::string MetricsServer::respond(const wire::HttpRequestHead& head, const Render& render) {
  wire::HttpResponse response;
  std::string body;
  switch (head.status) {
    case wire::HttpParseStatus::Complete:
      break;
    case wire::HttpParseStatus::TooLarge:
      response.status = 431;
      response.reason = "Request Header Fields Too Large";
      response.body = "request head too large\n";
      return wire::format_http_response(response);
    case wire::HttpParseStatus::Incomplete:
    case wire::HttpParseStatus::BadRequest:
      response.status = 400;
      response.reason = "Bad Request";
      response.body = "bad request\n";
      return wire::format_http_response(response);
  }
  const bool head_only = head.method == "HEAD";
  if (head.path != "/metrics") {
    response.status = 404;
    response.reason = "Not Found";
    response.body = "only /metrics is served here\n";
  } else if (head.method != "GET" && !head_only) {
    response.status = 405;
    response.reason = "Method Not Allowed";
    response.allow = "GET, HEAD";
    response.body = "only GET and HEAD\n";
  } else {
    body = render();
    response.content_type = wire::kPrometheusTextContentType;
    response.body = body;
  }
  response.head_only = head_only;
  return wire::format_http_response(response);
}

}  // namespace rtether::relay
