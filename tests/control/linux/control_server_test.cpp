// The control server on a relay's event loop, reached through the control
// client (run on a thread while the test turns the relay's loop): status,
// forwards added, listed and removed at run time, refusals as error
// replies, the socket file's mode, and the bounds (connections, request
// size, idle time).
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <algorithm>
#include <future>
#include <string>
#include <thread>

#include "control/control_client.hpp"
#include "control/control_protocol.hpp"
#include "control/control_server.hpp"
#include "io/linux/fd_exhaustion.hpp"
#include "relay/address_map.hpp"
#include "relay/fake_device.hpp"

namespace rtether::control {
namespace {

using nlohmann::json;

class ControlServerTest : public ::testing::Test {
 protected:
  ControlServerTest() : relay_(loop_, relay::RelayConfig{}) {
    path_ = "/tmp/rtether-control-test-" + std::to_string(::getpid());
  }

  void start(ControlServer::Options options = {}) {
    if (options.path.empty()) options.path = path_;
    options.owner_uid = static_cast<long>(::geteuid());
    server_ = std::make_unique<ControlServer>(loop_, relay_, std::move(options));
  }

  // The reply line to one request, the relay's loop turning meanwhile.
  std::string ask(const std::string& request) {
    auto reply = std::async(std::launch::async, [&] { return exchange(server_->path(), request); });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (reply.wait_for(std::chrono::seconds(0)) != std::future_status::ready &&
           std::chrono::steady_clock::now() < deadline)
      loop_.run_once(std::chrono::milliseconds(5));
    return reply.get();
  }

  json ok(const std::string& request) {
    std::string error;
    auto reply = parse_reply(ask(request), error);
    EXPECT_TRUE(reply) << request << ": " << error;
    return reply.value_or(json::object());
  }

  std::string refused(const std::string& request) {
    std::string error;
    EXPECT_FALSE(parse_reply(ask(request), error)) << request;
    return error;
  }

  // A raw connection to the socket file (blocking).
  int connect_raw() {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path_.copy(address.sun_path, sizeof address.sun_path - 1);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    return fd;
  }

  // What the server sends `fd` until it closes (or 3 s pass).
  std::string read_to_end(int fd) {
    std::string text;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (std::chrono::steady_clock::now() < deadline) {
      loop_.run_once(std::chrono::milliseconds(5));
      char buffer[4096];
      long got = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
      if (got == 0) break;
      if (got > 0) text.append(buffer, static_cast<std::size_t>(got));
    }
    return text;
  }

  io::EventLoop loop_;
  relay::Relay relay_;
  std::string path_;
  std::unique_ptr<ControlServer> server_;
};

TEST_F(ControlServerTest, StatusReportsTheRelay) {
  start();
  json status = ok(R"({"command":"status"})");
  EXPECT_EQ(status["clients"], json::array());
  EXPECT_EQ(status["flows"], 0);
  EXPECT_EQ(status["totals"]["bytes_from_device"], 0);
  EXPECT_EQ(status["forwards"], json::array());
}

TEST_F(ControlServerTest, TheSocketFileIsTheOwnersOnly) {
  start();
  struct stat info {};
  ASSERT_EQ(::lstat(path_.c_str(), &info), 0);
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  server_.reset();
  EXPECT_NE(::lstat(path_.c_str(), &info), 0);  // removed with the server
}

TEST_F(ControlServerTest, ForwardsAreAddedListedAndRemovedAtRunTime) {
  start();
  const std::uint16_t port = relay::testing::HostListener().port;  // free again at once
  const std::string rule = "tcp:" + std::to_string(port) + ":80";
  const std::string canonical = "tcp:127.0.0.1:" + std::to_string(port) + ":80";
  EXPECT_EQ(ok(R"({"command":"forward-add","rule":")" + rule + "\"}")["forward"], canonical);
  EXPECT_EQ(ok(R"({"command":"forward-list"})")["forwards"], json::array({canonical}));
  EXPECT_EQ(relay_.forwards().size(), 1u);
  EXPECT_EQ(refused(R"({"command":"forward-add","rule":")" + rule + "\"}"),
            "forward " + canonical + ": " + canonical + " already forwards that port");
  EXPECT_EQ(ok(R"({"command":"forward-remove","rule":")" + rule + "\"}")["forward"], canonical);
  EXPECT_TRUE(relay_.forwards().empty());
  EXPECT_EQ(refused(R"({"command":"forward-remove","rule":")" + rule + "\"}"),
            "no forward " + canonical + " (rtether forward list shows them)");
}

TEST_F(ControlServerTest, APortInUseIsAnErrorReply) {
  start();
  relay::testing::HostListener taken;
  const std::string error = refused(R"({"command":"forward-add","rule":"tcp:)" +
                                    std::to_string(taken.port) + ":80\"}");
  EXPECT_NE(error.find("Address already in use"), std::string::npos) << error;
  EXPECT_TRUE(relay_.forwards().empty());
}

TEST_F(ControlServerTest, TheCommandsPolicyChecksNewForwards) {
  ControlServer::Options options;
  options.check_forward = [](const relay::ForwardRule& rule, const std::string& text) {
    return wire::is_loopback(rule.listen.address) ? std::string() : text + ": beyond loopback";
  };
  start(std::move(options));
  EXPECT_EQ(refused(R"({"command":"forward-add","rule":"tcp:0.0.0.0:8080:80"})"),
            "tcp:0.0.0.0:8080:80: beyond loopback");
  EXPECT_TRUE(relay_.forwards().empty());
}

TEST_F(ControlServerTest, BadRequestsGetTheReasonAndTheConnectionStays) {
  start();
  int fd = connect_raw();
  const std::string requests = "nonsense\n{\"command\":\"status\"}\n";
  ASSERT_EQ(::send(fd, requests.data(), requests.size(), 0), static_cast<long>(requests.size()));
  ::shutdown(fd, SHUT_WR);
  std::string replies = read_to_end(fd);
  ::close(fd);
  auto newline = replies.find('\n');
  ASSERT_NE(newline, std::string::npos) << replies;
  std::string error;
  EXPECT_FALSE(parse_reply(replies.substr(0, newline), error));
  EXPECT_EQ(error, "a request is one JSON object on one line");
  const std::string second = replies.substr(newline + 1);
  EXPECT_TRUE(parse_reply(second.substr(0, second.find('\n')), error)) << error;
}

TEST_F(ControlServerTest, AnOverlongRequestIsRefusedAndClosed) {
  start();
  int fd = connect_raw();
  const std::string flood(kMaxRequestBytes + 10, 'x');
  ASSERT_EQ(::send(fd, flood.data(), flood.size(), 0), static_cast<long>(flood.size()));
  std::string reply = read_to_end(fd);
  ::close(fd);
  std::string error;
  EXPECT_FALSE(parse_reply(reply.substr(0, reply.find('\n')), error));
  EXPECT_EQ(error, "request longer than 4095 bytes");
}

TEST_F(ControlServerTest, ConnectionsAreBounded) {
  ControlServer::Options options;
  options.max_connections = 2;
  start(std::move(options));
  int first = connect_raw();
  int second = connect_raw();
  int third = connect_raw();
  std::string reply = read_to_end(third);
  std::string error;
  EXPECT_FALSE(parse_reply(reply.substr(0, reply.find('\n')), error));
  EXPECT_EQ(error, "too many control connections (at most 2)");
  EXPECT_EQ(server_->connection_count(), 2u);
  ::close(first);
  ::close(second);
  ::close(third);
}

TEST_F(ControlServerTest, AnIdleConnectionIsClosed) {
  ControlServer::Options options;
  options.idle_timeout = std::chrono::milliseconds(50);
  start(std::move(options));
  int idle = connect_raw();
  EXPECT_EQ(read_to_end(idle), "");  // ends with the server's close, well before 3 s
  EXPECT_EQ(server_->connection_count(), 0u);
  ::close(idle);
}

TEST_F(ControlServerTest, ALiveSocketAtThePathIsNotTaken) {
  start();
  ControlServer::Options second;
  second.path = path_;
  EXPECT_THROW(ControlServer(loop_, relay_, std::move(second)), std::runtime_error);
}

TEST_F(ControlServerTest, ManyLinesInOneBufferAreAllAnswered) {
  start();
  constexpr int kLines = 500;
  std::string requests;
  for (int i = 0; i < kLines; ++i) requests += "{\"command\":\"status\"}\n";
  int fd = connect_raw();
  ASSERT_EQ(::send(fd, requests.data(), requests.size(), 0), static_cast<long>(requests.size()));
  std::string replies;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::count(replies.begin(), replies.end(), '\n') < kLines &&
         std::chrono::steady_clock::now() < deadline) {
    loop_.run_once(std::chrono::milliseconds(5));
    char buffer[65536];
    long got = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (got == 0) break;
    if (got > 0) replies.append(buffer, static_cast<std::size_t>(got));
  }
  EXPECT_EQ(std::count(replies.begin(), replies.end(), '\n'), kLines);
  std::string error;
  EXPECT_TRUE(parse_reply(replies.substr(0, replies.find('\n')), error)) << error;
  ::close(fd);
}

TEST_F(ControlServerTest, OutOfFdsTheListenerPausesAndAcceptsLater) {
  start();
  // One connection accepted first: the listener's first dispatch happens
  // with fds to spare (UBSan's first type check of a handler needs one of
  // its own, and would report a false "invalid vptr" under EMFILE).
  int first = connect_raw();
  auto warm = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (server_->connection_count() == 0 && std::chrono::steady_clock::now() < warm)
    loop_.run_once(std::chrono::milliseconds(20));
  ASSERT_EQ(server_->connection_count(), 1u);
  int fd = connect_raw();  // queued, not accepted yet
  io::testing::FdExhaustion exhaustion;
  ASSERT_TRUE(exhaustion.exhausted());
  // 300 ms of a loop that waits at most 20 ms per turn: about 15 turns when
  // the listener pauses, thousands when a readable listener spins.
  int turns = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  while (std::chrono::steady_clock::now() < deadline) {
    loop_.run_once(std::chrono::milliseconds(20));
    ++turns;
  }
  EXPECT_LT(turns, 60);
  EXPECT_EQ(server_->connection_count(), 1u);

  exhaustion.release();
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (server_->connection_count() < 2 && std::chrono::steady_clock::now() < deadline)
    loop_.run_once(std::chrono::milliseconds(20));
  EXPECT_EQ(server_->connection_count(), 2u);
  ::close(fd);
  ::close(first);
}

}  // namespace
}  // namespace rtether::control
