// MetricsServer: GET /metrics over a real loopback connection on the event
// loop, the other answers (404, 405, 400, 431), and the bounds: a silent
// client is closed at the timeout, connections past the limit at once.
#include "relay/metrics_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "relay/fake_device.hpp"

namespace rtether::relay {
namespace {

using namespace std::chrono_literals;
using testing::address;

class MetricsServerTest : public ::testing::Test {
 protected:
  void start(MetricsServerLimits limits = {}) {
    server_ = std::make_unique<MetricsServer>(
        loop_, io::Endpoint{address("127.0.0.1"), 0},
        [this] {
          ++renders_;
          return std::string("rtether_sessions 1\n");
        },
        limits);
  }

  bool turn_until(const std::function<bool()>& done, std::chrono::milliseconds bound = 3000ms) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (!done() && std::chrono::steady_clock::now() < deadline) loop_.run_once(5ms);
    return done();
  }

  io::Fd connect() {
    auto connection = io::connect_nonblocking(io::Transport::Tcp, server_->endpoint());
    if (!connection) throw std::system_error(connection.error(), "connect to the metrics server");
    return std::move(connection->fd);
  }

  // Everything the server sends until it closes (bounded).
  std::string read_to_end(const io::Fd& client, std::chrono::milliseconds bound = 3000ms) {
    std::string received;
    bool ended = false;
    turn_until(
        [&] {
          std::uint8_t buffer[4096];
          long got;
          while ((got = testing::receive_now(client.get(), {buffer, sizeof buffer})) > 0)
            received.append(reinterpret_cast<const char*>(buffer), static_cast<std::size_t>(got));
          ended = got == 0;
          return ended;
        },
        bound);
    EXPECT_TRUE(ended) << "the server did not close";
    return received;
  }

  std::string exchange(const std::string& request) {
    io::Fd client = connect();
    EXPECT_EQ(testing::send_all(client.get(), testing::as_bytes(request)), request.size());
    io::shutdown_write(client.get());
    return read_to_end(client);
  }

  io::EventLoop loop_;
  std::unique_ptr<MetricsServer> server_;
  int renders_ = 0;
};

TEST_F(MetricsServerTest, GetMetricsAnswersTheRenderedText) {
  start();
  EXPECT_EQ(exchange("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            "Content-Length: 19\r\n"
            "Connection: close\r\n\r\n"
            "rtether_sessions 1\n");
  EXPECT_EQ(renders_, 1);
  EXPECT_TRUE(turn_until([&] { return server_->connection_count() == 0; }));
}

TEST_F(MetricsServerTest, RequestInPiecesIsAnsweredOnceWhole) {
  start();
  io::Fd client = connect();
  const std::string request = "GET /metrics?x=1 HTTP/1.0\r\n\r\n";
  for (char c : request) {
    ASSERT_EQ(testing::send_all(client.get(), {reinterpret_cast<const std::uint8_t*>(&c), 1}), 1u);
    loop_.run_once(1ms);
  }
  EXPECT_TRUE(read_to_end(client).ends_with("\r\n\r\nrtether_sessions 1\n"));
}

TEST_F(MetricsServerTest, HeadGetsTheFieldsOnly) {
  start();
  std::string answer = exchange("HEAD /metrics HTTP/1.0\r\n\r\n");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_NE(answer.find("Content-Length: 19\r\n"), std::string::npos);
  EXPECT_TRUE(answer.ends_with("\r\n\r\n"));
}

TEST_F(MetricsServerTest, OtherPathsMethodsAndGarbageGetTheirStatus) {
  start();
  EXPECT_TRUE(exchange("GET / HTTP/1.0\r\n\r\n").starts_with("HTTP/1.1 404 Not Found\r\n"));
  std::string post = exchange("POST /metrics HTTP/1.0\r\nContent-Length: 2\r\n\r\nab");
  EXPECT_TRUE(post.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
  EXPECT_NE(post.find("\r\nAllow: GET, HEAD\r\n"), std::string::npos);
  // The start of a TLS ClientHello, then a line feed.
  EXPECT_TRUE(exchange("\x16\x03\x01\x02\x10\x01\x02\xfc\x03\x03\n")
                  .starts_with("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_TRUE(
      exchange("GET /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_EQ(renders_, 0);
}

TEST_F(MetricsServerTest, StreamEndingBeforeAWholeHeadGetsNoAnswer) {
  start();
  EXPECT_EQ(exchange("GET /metrics HTTP/1.1\r\nHost: x\r\n"), "");
  EXPECT_EQ(renders_, 0);
}

TEST_F(MetricsServerTest, HeadPastTheLimitIs431) {
  MetricsServerLimits limits;
  limits.max_request_bytes = 256;
  start(limits);
  std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(1000, 'a');
  io::Fd client = connect();
  testing::send_all(client.get(), testing::as_bytes(request));
  // Read while the client has not closed: the answer is whole although the
  // server never read the rest.
  EXPECT_TRUE(read_to_end(client).starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
}

TEST_F(MetricsServerTest, SilentClientIsClosedAtTheTimeout) {
  MetricsServerLimits limits;
  limits.connection_timeout = 200ms;
  start(limits);
  io::Fd client = connect();
  ASSERT_TRUE(turn_until([&] { return server_->connection_count() == 1; }));
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(read_to_end(client, 3000ms), "");
  EXPECT_GE(std::chrono::steady_clock::now() - started, 150ms);
  EXPECT_TRUE(turn_until([&] { return server_->connection_count() == 0; }));
}

TEST_F(MetricsServerTest, ConnectionsPastTheLimitAreClosedAtOnce) {
  MetricsServerLimits limits;
  limits.max_connections = 2;
  start(limits);
  std::vector<io::Fd> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(connect());
    ASSERT_TRUE(turn_until([&] { return server_->connection_count() == held.size(); }));
  }
  io::Fd extra = connect();
  EXPECT_EQ(read_to_end(extra, 1000ms), "");
  EXPECT_EQ(server_->connection_count(), 2u);
  // The ones within the limit are still served.
  const std::string request = "GET /metrics HTTP/1.0\r\n\r\n";
  ASSERT_EQ(testing::send_all(held[0].get(), testing::as_bytes(request)), request.size());
  EXPECT_TRUE(read_to_end(held[0]).starts_with("HTTP/1.1 200 OK\r\n"));
}

}  // namespace
}  // namespace rtether::relay
