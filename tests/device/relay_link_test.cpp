// Tests for finding and reaching the relay: address parsing, the client id
// handshake over a real abstract UNIX socket, and the failures that must be
// reported (refused, closed early, silent peer, cancelled) without hanging.
#include "device/relay_link.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "device/netns.hpp"
#include "io/crypto.hpp"
#include "wire/secret_handshake.hpp"
#include "scoped_netns.hpp"

namespace rtether::device {
namespace {

TEST(ParseRelayAddress, ReadsHostAndPort) {
  std::string error;
  auto address = parse_relay_address("127.0.0.1:31416", error);
  ASSERT_TRUE(address) << error;
  EXPECT_EQ(address->kind, RelayAddress::Kind::Tcp);
  EXPECT_EQ(address->host, "127.0.0.1");
  EXPECT_EQ(address->port, 31416);
  EXPECT_EQ(parse_relay_address("localhost:1", error)->host, "localhost");
}

TEST(ParseRelayAddress, ReadsBracketedIpv6) {
  std::string error;
  auto address = parse_relay_address("[::1]:31416", error);
  ASSERT_TRUE(address) << error;
  EXPECT_EQ(address->host, "::1");
  EXPECT_EQ(address->to_string(), "[::1]:31416");
}

TEST(ParseRelayAddress, ReadsUnixPathsAndAbstractNames) {
  std::string error;
  auto path = parse_relay_address("unix:/run/rtether.sock", error);
  ASSERT_TRUE(path) << error;
  EXPECT_EQ(path->kind, RelayAddress::Kind::Unix);
  EXPECT_EQ(path->path, "/run/rtether.sock");
  EXPECT_EQ(parse_relay_address("unix:@gnirehtet", error)->path, "@gnirehtet");
}

TEST(ParseRelayAddress, RejectsBadValuesWithAReason) {
  std::string error;
  for (const char* text : {"127.0.0.1", "127.0.0.1:", ":31416", "127.0.0.1:0", "127.0.0.1:65536",
                           "127.0.0.1:31416x", "::1:31416", "unix:", "unix:@"}) {
    EXPECT_FALSE(parse_relay_address(text, error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
  EXPECT_FALSE(parse_relay_address("unix:" + std::string(200, 'x'), error));
  EXPECT_NE(error.find("too long"), std::string::npos) << error;
}

// A listening abstract socket named after the test, closed at the end.
class AbstractListener {
 public:
  explicit AbstractListener(const std::string& name) : name_("@" + name) {
    fd_ = io::Fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path + 1, name.data(), name.size());
    auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    EXPECT_EQ(bind(fd_.get(), reinterpret_cast<sockaddr*>(&address), length), 0);
    EXPECT_EQ(listen(fd_.get(), 4), 0);
  }
  RelayAddress address() const { return {RelayAddress::Kind::Unix, "", 0, name_}; }
  io::Fd accept_one() { return io::Fd(accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC)); }

 private:
  std::string name_;
  io::Fd fd_;
};

std::string unique_name(const char* what) {
  return std::string("rtether-test-") + what + "-" + std::to_string(getpid());
}

TEST(ConnectRelay, ReadsTheBigEndianClientId) {
  AbstractListener listener(unique_name("id"));
  std::thread relay([&] {
    auto client = listener.accept_one();
    // Split in two writes: the id may arrive in pieces.
    const std::uint8_t id[4] = {0x01, 0x02, 0x03, 0x04};
    EXPECT_EQ(write(client.get(), id, 1), 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(write(client.get(), id + 1, 3), 3);
  });
  std::string error;
  auto connection = connect_relay(listener.address(), -1, 2000, error);
  relay.join();
  ASSERT_TRUE(connection) << error;
  EXPECT_EQ(connection->client_id, 0x01020304u);
}

TEST(ConnectRelay, AnswersTheSecretNonceWithItsHmac) {
  namespace handshake = wire::secret_handshake;
  const std::string secret = "a shared secret of some length";
  const wire::Bytes key{reinterpret_cast<const std::uint8_t*>(secret.data()), secret.size()};
  AbstractListener listener(unique_name("secret"));
  std::vector<std::uint8_t> nonce(handshake::kNonceSize);
  for (std::size_t i = 0; i < nonce.size(); ++i) nonce[i] = static_cast<std::uint8_t>(i * 7);
  std::vector<std::uint8_t> answer(handshake::kAnswerSize);
  std::thread relay([&] {
    auto client = listener.accept_one();
    const std::uint8_t id[4] = {0, 0, 0, 9};
    EXPECT_EQ(write(client.get(), id, 4), 4);
    // The nonce in pieces too.
    EXPECT_EQ(write(client.get(), nonce.data(), 5), 5);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(write(client.get(), nonce.data() + 5, nonce.size() - 5),
              static_cast<ssize_t>(nonce.size() - 5));
    std::size_t got = 0;
    while (got < answer.size()) {
      ssize_t n = read(client.get(), answer.data() + got, answer.size() - got);
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
  });
  std::string error;
  auto connection = connect_relay(listener.address(), -1, 2000, error, {}, key);
  relay.join();
  ASSERT_TRUE(connection) << error;
  EXPECT_EQ(connection->client_id, 9u);
  auto expected = io::hmac_sha256(key, handshake::answered_message(9, nonce));
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), answer.begin()));
}

TEST(ConnectRelay, WithASecretARelayThatSendsNoNonceFailsClearly) {
  const std::string secret = "a shared secret of some length";
  AbstractListener listener(unique_name("nononce"));
  std::thread relay([&] {
    auto client = listener.accept_one();
    const std::uint8_t id[4] = {0, 0, 0, 1};
    EXPECT_EQ(write(client.get(), id, 4), 4);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
  });
  std::string error;
  auto connection = connect_relay(
      listener.address(), -1, 200, error, {},
      wire::Bytes{reinterpret_cast<const std::uint8_t*>(secret.data()), secret.size()});
  relay.join();
  EXPECT_FALSE(connection);
  EXPECT_NE(error.find("does the relay have --secret?"), std::string::npos) << error;
}

TEST(ConnectRelay, ReportsRefusalWhenNothingListens) {
  std::string error;
  RelayAddress address{RelayAddress::Kind::Unix, "", 0, "@" + unique_name("nobody")};
  EXPECT_FALSE(connect_relay(address, -1, 1000, error));
  EXPECT_NE(error.find("refused"), std::string::npos) << error;
}

TEST(ConnectRelay, ReportsAPeerThatClosesBeforeTheId) {
  AbstractListener listener(unique_name("close"));
  std::thread relay([&] { listener.accept_one(); });
  std::string error;
  EXPECT_FALSE(connect_relay(listener.address(), -1, 2000, error));
  relay.join();
  EXPECT_NE(error.find("before sending a client id"), std::string::npos) << error;
}

TEST(ConnectRelay, GivesUpOnASilentPeerAfterTheTimeout) {
  AbstractListener listener(unique_name("silent"));
  std::string error;
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(connect_relay(listener.address(), -1, 200, error));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_NE(error.find("timed out"), std::string::npos) << error;
}

TEST(ConnectRelay, StopsWhenCancelled) {
  AbstractListener listener(unique_name("cancel"));
  io::Fd cancel(eventfd(1, EFD_CLOEXEC));
  std::string error;
  EXPECT_FALSE(connect_relay(listener.address(), cancel.get(), 5000, error));
  EXPECT_EQ(error, "no client id from relay: cancelled");
}

TEST(ConnectRelay, TimeSpentInTheBeforeConnectCallbackIsNotTheRelays) {
  // The callback waits for the UI's PROTECTFD answer; a UI slower than the
  // timeout must not make a healthy relay look unreachable.
  AbstractListener listener(unique_name("slow-ui"));
  std::thread relay([&] {
    auto client = listener.accept_one();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const std::uint8_t id[4] = {0, 0, 0, 9};
    EXPECT_EQ(send(client.get(), id, 4, MSG_NOSIGNAL), 4);
  });
  std::string error;
  int calls = 0;
  auto slow_ui = [&](int, const std::optional<wire::IpAddress>& destination, std::string&) {
    ++calls;
    EXPECT_FALSE(destination);  // a UNIX socket
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    return true;
  };
  auto connection = connect_relay(listener.address(), -1, 300, error, slow_ui);
  relay.join();
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE(connection) << error;
  EXPECT_EQ(connection->client_id, 9u);
}

// Connects to a TCP relay listening on `host` (IPv4) that sends client id 7;
// `destinations` gets the address the before-connect callback was shown.
std::optional<RelayConnection> connect_to_tcp_relay(const std::string& host,
                                                    std::vector<std::string>& destinations,
                                                    std::string& error) {
  io::Fd listener(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  EXPECT_EQ(inet_pton(AF_INET, host.c_str(), &address.sin_addr), 1);
  EXPECT_EQ(bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(listen(listener.get(), 1), 0);
  socklen_t length = sizeof address;
  getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length);
  std::thread relay([&] {
    io::Fd client(accept(listener.get(), nullptr, nullptr));
    const std::uint8_t id[4] = {0, 0, 0, 7};
    if (client.valid()) {
      EXPECT_EQ(write(client.get(), id, 4), 4);
    }
  });
  RelayAddress relay_address{RelayAddress::Kind::Tcp, host, ntohs(address.sin_port), ""};
  auto note = [&](int, const std::optional<wire::IpAddress>& destination, std::string&) {
    destinations.push_back(destination ? destination->to_string() : "none");
    return true;
  };
  auto connection = connect_relay(relay_address, -1, 2000, error, note);
  // A failed connect leaves the accept waiting: end it (Linux wakes it).
  shutdown(listener.get(), SHUT_RDWR);
  relay.join();
  return connection;
}

TEST(ConnectRelay, ConnectsOverTcpLoopback) {
  std::string error;
  std::vector<std::string> destinations;
  auto connection = connect_to_tcp_relay("127.0.0.1", destinations, error);
  ASSERT_TRUE(connection) << error;
  EXPECT_EQ(connection->client_id, 7u);
  EXPECT_EQ(connection->remote_address, "127.0.0.1");
  EXPECT_EQ(destinations, std::vector<std::string>{"127.0.0.1"});
}

// A relay on the address of a real interface (a veth in a namespace of the
// test's own): the before-connect callback, where the daemon decides on
// PROTECTFD, is shown that address.
TEST(ConnectRelay, ShowsANonLoopbackDestinationBeforeConnecting) {
  ScopedNetns netns("leaves");
  const std::string inside = "ip netns exec " + netns.name() + " ";
  ASSERT_EQ(std::system((inside + "ip link add rtether-v0 type veth peer name rtether-v1 && " +
                         inside + "ip address add 192.0.2.1/24 dev rtether-v0 && " + inside +
                         "ip link set rtether-v0 up && " + inside +
                         "ip link set rtether-v1 up && " + inside + "ip link set lo up")
                            .c_str()),
            0);
  NetnsGuard guard(netns.name());
  std::string error;
  std::vector<std::string> destinations;
  auto connection = connect_to_tcp_relay("192.0.2.1", destinations, error);
  ASSERT_TRUE(connection) << error;
  EXPECT_EQ(connection->remote_address, "192.0.2.1");
  EXPECT_EQ(destinations, std::vector<std::string>{"192.0.2.1"});
}

}  // namespace
}  // namespace rtether::device
