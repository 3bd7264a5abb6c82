// DeviceWatcher on a real event loop against an in-process fake adb server
// on loopback: the request it sends, devices appearing and going, a list
// split across reads, a refused request, the server going away and coming
// back (start-server asked for, every ready device new again).
#include "adb/device_watcher.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace rtether::adb {
namespace {

using namespace std::chrono_literals;

std::string framed(const std::string& payload) {
  char length[8];
  std::snprintf(length, sizeof length, "%04zx", payload.size());
  return length + payload;
}

// A listening loopback socket the test drives by hand (blocking calls with
// timeouts; the watcher's loop runs in between with run_once).
class FakeServer {
 public:
  explicit FakeServer(std::uint16_t port = 0) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_, 8) != 0)
      throw std::runtime_error("fake adb server: bind/listen failed");
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~FakeServer() {
    drop_client();
    if (listener_ >= 0) ::close(listener_);
  }
  std::uint16_t port() const { return port_; }
  void close_listener() {
    ::close(listener_);
    listener_ = -1;
  }

  // Accepts while running the loop (the watcher's retry timer), 5 s at most.
  bool accept_from(io::EventLoop& loop) {
    for (int i = 0; i < 250 && client_ < 0; ++i) {
      loop.run_once(20ms);
      client_ = ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    }
    return client_ >= 0;
  }
  std::string read_request(io::EventLoop& loop) {
    std::string got;
    for (int i = 0; i < 100 && got.size() < 24; ++i) {
      loop.run_once(20ms);
      char buffer[64];
      ssize_t n = ::recv(client_, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n > 0) got.append(buffer, static_cast<std::size_t>(n));
    }
    return got;
  }
  void send(const std::string& bytes) {
    ASSERT_EQ(::send(client_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  void drop_client() {
    if (client_ >= 0) ::close(client_);
    client_ = -1;
  }
  // The watcher closed its end (read returns 0).
  bool peer_closed() {
    char byte;
    return client_ >= 0 && ::recv(client_, &byte, 1, MSG_DONTWAIT | MSG_PEEK) == 0;
  }

 private:
  int listener_ = -1;
  int client_ = -1;
  std::uint16_t port_ = 0;
};

struct Recorder {
  std::vector<std::string> events;
  int unreachable = 0;
  DeviceWatcher::Callbacks callbacks() {
    return {[this](const std::string& s) { events.push_back("+" + s); },
            [this](const std::string& s) { events.push_back("-" + s); }, nullptr,
            [this](const std::string&) { ++unreachable; }};
  }
};

ServerAddress loopback(std::uint16_t port) {
  ServerAddress server;
  server.port = port;
  return server;
}

void spin(io::EventLoop& loop, int rounds = 10) {
  for (int i = 0; i < rounds; ++i) loop.run_once(10ms);
}

TEST(DeviceWatcher, SendsTrackDevicesAndReportsChanges) {
  io::EventLoop loop;
  FakeServer server;
  Recorder recorder;
  DeviceWatcher watcher(loop, loopback(server.port()), recorder.callbacks());
  watcher.start();
  ASSERT_TRUE(server.accept_from(loop));
  EXPECT_EQ(server.read_request(loop), "0014host:track-devices-l");
  server.send("OKAY" + framed("A\tdevice\nB\tunauthorized\n"));
  spin(loop);
  EXPECT_EQ(recorder.events, std::vector<std::string>{"+A"});
  server.send(framed("A\tdevice\nB\tdevice\n") + framed("B\tdevice\n"));
  spin(loop);
  EXPECT_EQ(recorder.events, (std::vector<std::string>{"+A", "+B", "-A"}));
  server.send(framed("B\tdevice\nA\tdevice\n"));
  spin(loop);
  EXPECT_EQ(recorder.events.back(), "+A");
  EXPECT_EQ(recorder.unreachable, 0);
  EXPECT_EQ(watcher.connections(), 1u);
}

TEST(DeviceWatcher, EveryListIsShownAfterTheChangesItCauses) {
  io::EventLoop loop;
  FakeServer server;
  std::vector<std::string> events;
  DeviceWatcher watcher(loop, loopback(server.port()),
                        {[&](const std::string& s) { events.push_back("+" + s); },
                         [&](const std::string& s) { events.push_back("-" + s); },
                         [&](const DeviceList& list) {
                           std::string shown = "=";
                           for (const auto& device : list.devices)
                             shown += device.serial + ":" + device.state + " ";
                           events.push_back(shown);
                         },
                         nullptr});
  watcher.start();
  ASSERT_TRUE(server.accept_from(loop));
  server.read_request(loop);
  server.send("OKAY" + framed("A\tdevice\n") + framed("A\toffline\n") + framed(""));
  spin(loop);
  EXPECT_EQ(events, (std::vector<std::string>{"+A", "=A:device ", "-A", "=A:offline ", "="}));
}

TEST(DeviceWatcher, AListSplitAcrossReadsAndLongerThan1024Bytes) {
  io::EventLoop loop;
  FakeServer server;
  Recorder recorder;
  DeviceWatcher watcher(loop, loopback(server.port()), recorder.callbacks());
  watcher.start();
  ASSERT_TRUE(server.accept_from(loop));
  server.read_request(loop);
  std::string list;
  for (int i = 0; i < 80; ++i) list += "offline-device-" + std::to_string(i) + "\toffline\n";
  list += "LAST\tdevice\n";
  ASSERT_GT(list.size(), 1024u);
  std::string stream = "OKAY" + framed(list);
  for (std::size_t at = 0; at < stream.size(); at += 500) {
    server.send(stream.substr(at, 500));
    spin(loop, 2);
  }
  spin(loop);
  EXPECT_EQ(recorder.events, std::vector<std::string>{"+LAST"});
}

TEST(DeviceWatcher, ServerGoneMeansStartServerRetryAndDevicesNewAgain) {
  io::EventLoop loop;
  auto server = std::make_unique<FakeServer>();
  const std::uint16_t port = server->port();
  Recorder recorder;
  DeviceWatcher watcher(loop, loopback(port), recorder.callbacks());
  watcher.start();
  ASSERT_TRUE(server->accept_from(loop));
  server->read_request(loop);
  server->send("OKAY" + framed("A\tdevice\n"));
  spin(loop);
  server.reset();  // the adb server dies: connection and listener closed
  spin(loop);
  EXPECT_EQ(recorder.events, (std::vector<std::string>{"+A", "-A"}));
  EXPECT_GE(recorder.unreachable, 1);
  server = std::make_unique<FakeServer>(port);
  ASSERT_TRUE(server->accept_from(loop));  // the retry comes within a few seconds
  EXPECT_EQ(server->read_request(loop), "0014host:track-devices-l");
  server->send("OKAY" + framed("A\tdevice\n"));
  spin(loop);
  EXPECT_EQ(recorder.events, (std::vector<std::string>{"+A", "-A", "+A"}));
  EXPECT_EQ(watcher.connections(), 2u);
}

TEST(DeviceWatcher, ARefusalOrGarbageIsRetriedNotFatal) {
  io::EventLoop loop;
  FakeServer server;
  Recorder recorder;
  DeviceWatcher watcher(loop, loopback(server.port()), recorder.callbacks());
  watcher.start();
  ASSERT_TRUE(server.accept_from(loop));
  server.read_request(loop);
  server.send("FAIL" + framed("unknown host service"));
  spin(loop);
  // A server that answers is running: no start-server for FAIL or garbage.
  EXPECT_EQ(recorder.unreachable, 0);
  server.drop_client();
  ASSERT_TRUE(server.accept_from(loop));
  server.read_request(loop);
  server.send("OKAY" + framed("A\tdevice\n") + "zzzz");
  spin(loop);
  EXPECT_EQ(recorder.events, (std::vector<std::string>{"+A", "-A"}));
  EXPECT_EQ(recorder.unreachable, 0);
  // The end of the stream, though, asks for start-server.
  server.drop_client();
  ASSERT_TRUE(server.accept_from(loop));
  server.read_request(loop);
  server.drop_client();
  spin(loop);
  EXPECT_EQ(recorder.unreachable, 1);
}

// A server that accepts and then says nothing (no OKAY, or OKAY and no
// list) is dropped after the handshake limit and tried again.
TEST(DeviceWatcher, ASilentServerIsDroppedAfterTheHandshakeLimit) {
  io::EventLoop loop;
  FakeServer server;
  Recorder recorder;
  DeviceWatcher watcher(loop, loopback(server.port()), recorder.callbacks());
  watcher.set_handshake_timeout(300ms);
  watcher.start();
  ASSERT_TRUE(server.accept_from(loop));
  EXPECT_EQ(server.read_request(loop), "0014host:track-devices-l");
  server.drop_client();  // nothing sent: the watcher sees EOF (start-server)
  spin(loop);
  EXPECT_EQ(recorder.unreachable, 1);
  ASSERT_TRUE(server.accept_from(loop));
  server.read_request(loop);
  server.send("OKAY");  // and no list
  auto limit = std::chrono::steady_clock::now() + 3s;
  while (watcher.connections() == 0 && std::chrono::steady_clock::now() < limit &&
         !server.peer_closed())
    loop.run_once(20ms);
  EXPECT_TRUE(server.peer_closed()) << "the watcher kept a silent connection";
  EXPECT_EQ(recorder.unreachable, 1);  // no start-server for a silent server
  server.drop_client();
  ASSERT_TRUE(server.accept_from(loop));
  server.read_request(loop);
  server.send("OKAY" + framed("A\tdevice\n"));
  spin(loop);
  EXPECT_EQ(recorder.events, std::vector<std::string>{"+A"});
  EXPECT_EQ(watcher.connections(), 1u);
}

// A UNIX listener whose backlog is full would block a blocking connect (and
// the event loop with it): the watcher's connect fails at once and retries.
TEST(DeviceWatcher, AUnixServerWithAFullBacklogDoesNotBlockTheLoop) {
  io::EventLoop loop;
  const std::string name = "@rtether-adb-backlog-" + std::to_string(::getpid());
  io::Fd listener = io::listen_unix(name, 0);
  io::Fd filler = io::connect_unix_blocking(name);  // fills the backlog of 0
  ServerAddress server;
  server.kind = ServerAddress::Kind::Unix;
  server.unix_path = name;
  Recorder recorder;
  DeviceWatcher watcher(loop, server, recorder.callbacks());
  auto before = std::chrono::steady_clock::now();
  watcher.start();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 1s);
  EXPECT_EQ(recorder.unreachable, 1);
  // Room again: the retry connects.
  io::Fd queued(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(queued.valid());
  int accepted = -1;
  for (int i = 0; i < 250 && accepted < 0; ++i) {
    loop.run_once(20ms);
    accepted = ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  }
  ASSERT_GE(accepted, 0);
  io::Fd connection(accepted);
  char request[24];
  for (int i = 0; i < 100; ++i) {
    loop.run_once(10ms);
    if (::recv(connection.get(), request, sizeof request, MSG_PEEK | MSG_DONTWAIT) == 24) break;
  }
  ASSERT_EQ(::recv(connection.get(), request, sizeof request, MSG_DONTWAIT), 24);
  EXPECT_EQ(std::string(request, 24), "0014host:track-devices-l");
}

TEST(DeviceWatcher, ReachesAServerOnAnAbstractUnixSocket) {
  io::EventLoop loop;
  const std::string name = "@rtether-adb-test-" + std::to_string(::getpid());
  io::Fd listener = io::listen_unix(name);
  ServerAddress server;
  server.kind = ServerAddress::Kind::Unix;
  server.unix_path = name;
  Recorder recorder;
  DeviceWatcher watcher(loop, server, recorder.callbacks());
  watcher.start();
  int accepted = -1;
  for (int i = 0; i < 250 && accepted < 0; ++i) {
    loop.run_once(20ms);
    accepted = ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
  }
  ASSERT_GE(accepted, 0);
  io::Fd connection(accepted);
  char request[24];
  ASSERT_EQ(::recv(connection.get(), request, sizeof request, MSG_WAITALL), 24);
  EXPECT_EQ(std::string(request, 24), "0014host:track-devices-l");
  std::string reply = "OKAY" + framed("U\tdevice\n");
  ASSERT_EQ(::send(connection.get(), reply.data(), reply.size(), 0),
            static_cast<ssize_t>(reply.size()));
  spin(loop);
  EXPECT_EQ(recorder.events, std::vector<std::string>{"+U"});
}

TEST(DeviceWatcher, NoServerAtAllKeepsRetrying) {
  io::EventLoop loop;
  std::uint16_t port;
  {
    FakeServer probe;
    port = probe.port();
  }
  Recorder recorder;
  DeviceWatcher watcher(loop, loopback(port), recorder.callbacks());
  watcher.start();
  auto until = std::chrono::steady_clock::now() + 2s;
  while (std::chrono::steady_clock::now() < until) loop.run_once(50ms);
  // 0.5 s, then 1 s between attempts: 2 or 3 failures in 2 s.
  EXPECT_GE(recorder.unreachable, 2);
  EXPECT_LE(recorder.unreachable, 4);
  EXPECT_TRUE(recorder.events.empty());
}

}  // namespace
}  // namespace rtether::adb
