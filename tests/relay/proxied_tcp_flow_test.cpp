// TcpFlow through an upstream proxy (RelayConfig::proxy): the test plays a
// SOCKS5 proxy by hand on a loopback listener. The device's SYN-ACK waits
// for the proxy's reply; the target's bytes that come in the same write as
// the reply reach the device; a silent proxy resets the device after
// proxy_timeout.
#include <gtest/gtest.h>

#include <string>

#include "relay/client_session.hpp"
#include "relay/fake_device.hpp"

namespace rtether::relay {
namespace {

using testing::FakeDevice;
using testing::HostListener;
namespace flag = wire::tcp_flag;

constexpr std::uint16_t kDevicePort = 41000;
constexpr std::uint16_t kTargetPort = 8080;
constexpr std::uint32_t kDeviceIss = 1000;

class ProxiedTcpFlow : public ::testing::Test {
 protected:
  ProxiedTcpFlow() : device_(loop_) {
    UpstreamProxy proxy;
    proxy.address = {wire::IpAddress::v4(0x7f000001), proxy_.port};
    config_.proxy = proxy;
    config_.proxy_timeout = std::chrono::milliseconds(300);
    session_ =
        std::make_unique<ClientSession>(loop_, device_.take_relay_end(), 0, config_, nullptr);
    session_->start();
  }

  wire::TcpSegmentHeader segment(std::uint32_t seq, std::uint32_t ack, std::uint8_t flags) {
    return testing::device_tcp(kDevicePort, kTargetPort, seq, ack, flags, 65535);
  }

  // The relay's next bytes on the proxy connection: exactly `count` of them.
  std::vector<std::uint8_t> read_from_relay(std::size_t count) {
    std::vector<std::uint8_t> got;
    std::uint8_t buffer[512];
    device_.run_until([&] {
      long n = testing::receive_now(proxy_side_.get(), wire::MutableBytes{buffer, sizeof buffer});
      if (n > 0) got.insert(got.end(), buffer, buffer + n);
      return got.size() >= count;
    });
    return got;
  }

  void accept_proxy_connection() {
    device_.run_until([&] {
      proxy_side_ = proxy_.accept_one();
      return proxy_side_.valid();
    });
    ASSERT_TRUE(proxy_side_.valid());
  }

  RelayConfig config_;
  io::EventLoop loop_;
  FakeDevice device_;
  HostListener proxy_;
  io::Fd proxy_side_;
  std::unique_ptr<ClientSession> session_;
};

TEST_F(ProxiedTcpFlow, TheSynAckWaitsForTheProxyAndEarlyTargetBytesArrive) {
  device_.send_tcp(segment(kDeviceIss, 0, flag::kSyn));
  accept_proxy_connection();
  EXPECT_EQ(read_from_relay(3), (std::vector<std::uint8_t>{5, 1, 0}));
  testing::send_all(proxy_side_.get(), std::vector<std::uint8_t>{5, 0});
  // CONNECT 10.0.2.2:8080 is asked as the host's 127.0.0.1:8080.
  EXPECT_EQ(read_from_relay(10), (std::vector<std::uint8_t>{5, 1, 0, 1, 127, 0, 0, 1,
                                                            kTargetPort >> 8, kTargetPort & 0xff}));
  device_.turn(std::chrono::milliseconds(20));
  EXPECT_TRUE(device_.all_taken()) << "no SYN-ACK before the proxy's reply";
  // The reply and the target's first bytes in one write.
  const std::string greeting = "SSH-2.0-test\r\n";
  std::vector<std::uint8_t> reply{5, 0, 0, 1, 127, 0, 0, 1, 0x30, 0x39};
  reply.insert(reply.end(), greeting.begin(), greeting.end());
  testing::send_all(proxy_side_.get(), reply);
  auto syn_ack = device_.next_tcp();
  ASSERT_TRUE(syn_ack);
  EXPECT_EQ(syn_ack->flags(), flag::kSyn | flag::kAck);
  device_.send_tcp(segment(kDeviceIss + 1, syn_ack->seq() + 1, flag::kAck));
  auto data = device_.next_tcp_skipping_pure_acks();
  ASSERT_TRUE(data);
  EXPECT_EQ(std::string(data->payload().begin(), data->payload().end()), greeting);
  EXPECT_EQ(session_->counters().proxy_tunnels, 1u);
}

TEST_F(ProxiedTcpFlow, ARefusalIsAResetToTheDevice) {
  device_.send_tcp(segment(kDeviceIss, 0, flag::kSyn));
  accept_proxy_connection();
  read_from_relay(3);
  testing::send_all(proxy_side_.get(), std::vector<std::uint8_t>{5, 0});
  read_from_relay(10);
  testing::send_all(
      proxy_side_.get(),
      std::vector<std::uint8_t>{5, wire::socks5_reply::kConnectionRefused, 0, 1, 0, 0, 0, 0, 0, 0});
  auto reset = device_.next_tcp();
  ASSERT_TRUE(reset);
  EXPECT_EQ(reset->flags(), flag::kRst | flag::kAck);
  EXPECT_EQ(reset->ack(), kDeviceIss + 1);
  EXPECT_EQ(session_->counters().proxy_target_refused, 1u);
}

TEST_F(ProxiedTcpFlow, ASilentProxyResetsTheDeviceAfterTheTimeout) {
  device_.send_tcp(segment(kDeviceIss, 0, flag::kSyn));
  accept_proxy_connection();
  read_from_relay(3);
  const auto start = std::chrono::steady_clock::now();
  auto reset = device_.next_tcp();
  ASSERT_TRUE(reset);
  EXPECT_EQ(reset->flags(), flag::kRst | flag::kAck);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(250));
  EXPECT_EQ(session_->counters().proxy_timeouts, 1u);
}

TEST_F(ProxiedTcpFlow, AProxyClosingBeforeItAnswersIsAReset) {
  device_.send_tcp(segment(kDeviceIss, 0, flag::kSyn));
  accept_proxy_connection();
  read_from_relay(3);
  proxy_side_.reset();
  auto reset = device_.next_tcp();
  ASSERT_TRUE(reset);
  EXPECT_EQ(reset->flags(), flag::kRst | flag::kAck);
  EXPECT_EQ(session_->counters().proxy_connect_failed, 1u);
}

}  // namespace
}  // namespace rtether::relay
