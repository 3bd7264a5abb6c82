// MetricsServer: the HTTP endpoint of `--metrics ADDR:PORT`, on the relay's
// event loop. GET (or HEAD) /metrics answers the text `render` returns, in
// the Prometheus text format; any other path is 404, any other method 405,
// a head that does not parse 400, one longer than the limit 431.
//
// One request per connection: the answer carries `Connection: close`, and
// after sending it the server shuts its side and reads (and throws away)
// until the client closes, so unread request bytes never turn the close
// into a reset that could cut the answer (RFC 9112 9.6). Bounded: at most
// `max_connections` at once (more are closed as they come), a head of at
// most `max_request_bytes`, and `connection_timeout` for a connection's whole
// life (a slow or silent client is closed then).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <string>

#include "io/accept_pause.hpp"
#include "io/event_loop.hpp"
#include "io/socket.hpp"
#include "relay/deferred_task.hpp"
#include "wire/http_request.hpp"

namespace rtether::relay {

struct MetricsServerLimits {
  std::size_t max_connections = 16;
  std::size_t max_request_bytes = 8192;
  std::chrono::milliseconds connection_timeout{10'000};
};

class MetricsServer {
 public:
  using Render = std::function<std::string()>;

  // Listens on `at` (start-up: throws std::system_error naming it).
  MetricsServer(io::EventLoop& loop, const io::Endpoint& at, Render render,
                MetricsServerLimits limits = {});
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The address listened on (the port chosen when `at` asked for 0).
  const io::Endpoint& endpoint() const { return endpoint_; }
  std::size_t connection_count() const { return connections_.size(); }

  // The whole response to a parsed head (pure: what the socket side sends).
  static std::string respond(const wire::HttpRequestHead& head, const Render& render);

 private:
  class Connection;
  class Listener : public io::Handler {
   public:
    explicit Listener(MetricsServer& server) : server_(server) {}
    void on_ready(io::Readiness readiness) override;

   private:
    MetricsServer& server_;
  };

  void accept(io::Fd fd);
  void reap();

  io::EventLoop& loop_;
  Render render_;
  MetricsServerLimits limits_;
  io::Fd listen_fd_;
  io::Endpoint endpoint_;
  Listener listener_{*this};
  io::AcceptPause accept_;  // after listen_fd_: leaves the loop before it closes
  std::list<std::unique_ptr<Connection>> connections_;
  DeferredTask reap_task_;
};

}  // namespace rtether::relay
