// Relay-level port forwarding: with two devices connected, a forward without
// a client id reaches the most recent one, `@ID` the named one, and an id
// that is not connected gets the host connection reset and counted. Rules
// change at run time: a removed rule's port refuses connections and its
// flows are reset both ways; a second rule on a forwarded port is refused.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <vector>

#include "relay/fake_device.hpp"
#include "relay/relay.hpp"

namespace rtether::relay {
namespace {

using testing::address;
namespace flag = wire::tcp_flag;

// A device connected to the relay over its UNIX socket: reads the client id,
// then frames the relay's packets.
class UnixDevice {
 public:
  explicit UnixDevice(const std::string& path) : fd_(io::connect_unix_blocking(path)) {}

  // Reads what is there (non-blocking); true once a TCP segment is framed.
  std::optional<wire::TcpView> poll_tcp() {
    std::uint8_t buffer[65536];
    while (true) {
      long n = ::recv(fd_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
      if (n <= 0) break;
      stream_.insert(stream_.end(), buffer, buffer + n);
    }
    if (stream_.size() < 4) return std::nullopt;
    if (!id_) {
      id_ = wire::load_be32(stream_.data());
      stream_.erase(stream_.begin(), stream_.begin() + 4);
    }
    auto length = wire::ip_packet_length(stream_);
    if (length.length == 0 || stream_.size() < length.length) return std::nullopt;
    packet_.assign(stream_.begin(), stream_.begin() + static_cast<long>(length.length));
    stream_.erase(stream_.begin(), stream_.begin() + static_cast<long>(length.length));
    auto ip = wire::parse_ip(packet_);
    if (!ip.packet) return std::nullopt;
    return wire::TcpView::parse(ip.packet->payload);
  }
  std::optional<std::uint32_t> id() const { return id_; }

 private:
  io::Fd fd_;
  std::vector<std::uint8_t> stream_;
  std::vector<std::uint8_t> packet_;
  std::optional<std::uint32_t> id_;
};

std::uint16_t free_port() {
  testing::HostListener listener;
  return listener.port;  // closed again at once
}

class RelayForwardTest : public ::testing::Test {
 protected:
  RelayForwardTest() : relay_(loop_, RelayConfig{}) {
    path_ = "@rtether-relay-forward-test-" + std::to_string(::getpid());
    relay_.listen_unix(path_);
  }

  void turn_until(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (!done() && std::chrono::steady_clock::now() < deadline)
      loop_.run_once(std::chrono::milliseconds(5));
  }

  std::unique_ptr<UnixDevice> connect_device(std::size_t expected_clients) {
    auto device = std::make_unique<UnixDevice>(path_);
    turn_until([&] { return relay_.client_count() == expected_clients; });
    return device;
  }

  ForwardRule rule(std::uint16_t device_port, std::optional<std::uint32_t> client) {
    ForwardRule rule;
    rule.protocol = wire::ip_protocol::kTcp;
    rule.listen = {address("127.0.0.1"), free_port()};
    rule.device_port = device_port;
    rule.client_id = client;
    relay_.add_forward(rule);
    return rule;
  }

  // The errno a read of `host` ends with (0: end of stream) within 3 s.
  int host_end(const io::Fd& host) {
    int error = -1;
    turn_until([&] {
      char buffer[8];
      long got = ::recv(host.get(), buffer, sizeof buffer, MSG_DONTWAIT);
      error = got < 0 ? errno : 0;
      return got == 0 || (got < 0 && errno != EAGAIN);
    });
    return error;
  }

  io::Fd connect_host(const ForwardRule& rule) {
    auto connection = io::connect_nonblocking(io::Transport::Tcp, rule.listen);
    EXPECT_TRUE(connection);
    return std::move(connection->fd);
  }

  std::optional<wire::TcpView> syn_at(UnixDevice& device) {
    std::optional<wire::TcpView> tcp;
    turn_until([&] { return (tcp = device.poll_tcp()).has_value(); });
    return tcp;
  }

  io::EventLoop loop_;
  Relay relay_;
  std::string path_;
};

TEST_F(RelayForwardTest, WithoutAnIdTheMostRecentDeviceIsReached) {
  auto first = connect_device(1);
  auto second = connect_device(2);
  auto latest = rule(80, std::nullopt);
  io::Fd host = connect_host(latest);
  auto syn = syn_at(*second);
  ASSERT_TRUE(syn);
  EXPECT_EQ(syn->flags(), flag::kSyn);
  EXPECT_EQ(syn->destination_port(), 80);
  EXPECT_EQ(*second->id(), 1u);
  EXPECT_FALSE(first->poll_tcp());
}

TEST_F(RelayForwardTest, AnIdNamesTheDevice) {
  auto first = connect_device(1);
  auto second = connect_device(2);
  auto named = rule(81, 0);
  io::Fd host = connect_host(named);
  auto syn = syn_at(*first);
  ASSERT_TRUE(syn);
  EXPECT_EQ(syn->destination_port(), 81);
  EXPECT_EQ(*first->id(), 0u);
  EXPECT_FALSE(second->poll_tcp());
}

TEST_F(RelayForwardTest, AnIdNotConnectedResetsTheHostConnection) {
  auto only = connect_device(1);
  auto missing = rule(82, 5);
  io::Fd host = connect_host(missing);
  EXPECT_EQ(host_end(host), ECONNRESET);
  EXPECT_EQ(relay_.totals().drop_forward_no_client, 1u);
  EXPECT_FALSE(only->poll_tcp());
}

TEST_F(RelayForwardTest, ARemovedRuleClosesItsPort) {
  auto device = connect_device(1);
  auto removed = rule(83, std::nullopt);
  ASSERT_EQ(relay_.forwards().size(), 1u);
  EXPECT_TRUE(relay_.remove_forward(removed));
  EXPECT_TRUE(relay_.forwards().empty());
  EXPECT_FALSE(relay_.remove_forward(removed));
  loop_.run_once(std::chrono::milliseconds(0));  // the listener dies after the batch
  io::Fd host{::socket(AF_INET, SOCK_STREAM, 0)};
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(removed.listen.port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(host.get(), reinterpret_cast<sockaddr*>(&to), sizeof to), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  EXPECT_FALSE(device->poll_tcp());
}

TEST_F(RelayForwardTest, ARemovedRuleResetsItsFlowsBothWays) {
  auto device = connect_device(1);
  auto removed = rule(84, std::nullopt);
  auto kept = rule(85, std::nullopt);
  io::Fd host = connect_host(removed);
  auto syn = syn_at(*device);
  ASSERT_TRUE(syn);
  EXPECT_EQ(syn->destination_port(), 84);
  ASSERT_TRUE(relay_.remove_forward(removed));
  auto reset = syn_at(*device);
  ASSERT_TRUE(reset);
  EXPECT_TRUE(reset->flags() & flag::kRst);
  EXPECT_EQ(reset->destination_port(), 84);
  EXPECT_EQ(host_end(host), ECONNRESET);
  // The other rule still forwards.
  io::Fd other = connect_host(kept);
  auto kept_syn = syn_at(*device);
  ASSERT_TRUE(kept_syn);
  EXPECT_EQ(kept_syn->destination_port(), 85);
}

TEST_F(RelayForwardTest, ASecondRuleOnAForwardedPortIsRefused) {
  ForwardRule udp;
  udp.protocol = wire::ip_protocol::kUdp;
  udp.listen = {address("127.0.0.1"), free_port()};
  udp.device_port = 53;
  relay_.add_forward(udp);
  ForwardRule again = udp;
  again.device_port = 54;
  EXPECT_THROW(relay_.add_forward(again), std::invalid_argument);
  ASSERT_EQ(relay_.forwards().size(), 1u);
  EXPECT_EQ(relay_.forwards()[0].device_port, 53);
}

}  // namespace
}  // namespace rtether::relay
