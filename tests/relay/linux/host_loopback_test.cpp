// Engine tests for host loopback off (RelayConfig::host_loopback = false,
// `--no-host-loopback`): every destination that reaches the host's loopback
// is refused before any host socket opens: TCP with a reset, UDP and echo
// with "administratively prohibited", each counted as drop_host_loopback.
#include <gtest/gtest.h>

#include <string>

#include "relay/client_session.hpp"
#include "relay/fake_device.hpp"

namespace rtether::relay {
namespace {

using testing::address;
using testing::echo_request;
using testing::FakeDevice;
using testing::HostListener;
namespace flag = wire::tcp_flag;

class HostLoopbackOffTest : public ::testing::Test {
 protected:
  HostLoopbackOffTest() {
    config_.host_loopback = false;
    config_.open_ping_socket = [this](const io::Endpoint&) -> io::Result<io::PingSocket> {
      ++ping_sockets_opened_;
      return std::make_error_code(std::errc::operation_not_permitted);
    };
    session_ = std::make_unique<ClientSession>(loop_, device_.take_relay_end(), 3, config_,
                                               [](std::uint32_t) {});
    session_->start();
  }

  // The next packet toward the device, parsed (kept alive in kept_).
  wire::IpPacket next_ip() {
    auto packet = device_.next_packet();
    EXPECT_TRUE(packet);
    if (!packet) return {};
    kept_.push_back(std::move(*packet));
    auto ip = wire::parse_ip(kept_.back());
    EXPECT_TRUE(ip.packet);
    return ip.packet ? *ip.packet : wire::IpPacket{};
  }

  void send_udp(const char* from, const char* to, std::uint16_t port) {
    wire::UdpDatagramHeader header;
    header.source = address(from);
    header.destination = address(to);
    header.source_port = 41000;
    header.destination_port = port;
    const std::string text = "anyone home?";
    device_.send_udp(header,
                     wire::Bytes{reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  }

  void expect_prohibited(const wire::IpPacket& ip) {
    auto icmp = wire::IcmpView::parse(ip.payload);
    ASSERT_TRUE(icmp);
    if (ip.version == wire::IpVersion::V4) {
      EXPECT_EQ(icmp->type(), wire::icmp_type::kDestUnreachable);
      EXPECT_EQ(icmp->code(), 13);  // RFC 1812 5.2.7.1: administratively prohibited
    } else {
      EXPECT_EQ(icmp->type(), wire::icmp_type::kV6DestUnreachable);
      EXPECT_EQ(icmp->code(), 1);  // RFC 4443 3.1
    }
  }

  RelayConfig config_;
  io::EventLoop loop_;
  FakeDevice device_{loop_};
  std::unique_ptr<ClientSession> session_;
  std::deque<std::vector<std::uint8_t>> kept_;
  int ping_sockets_opened_ = 0;
};

TEST_F(HostLoopbackOffTest, TcpToTheAliasOrALoopbackAddressIsResetWithoutAConnect) {
  HostListener listener;
  std::uint32_t seq = 1000;
  for (const char* destination : {"10.0.2.2", "127.0.0.1", "127.9.9.9", "0.0.0.0"}) {
    auto syn = testing::device_tcp(40000, listener.port, seq, 0, flag::kSyn);
    syn.destination = address(destination);
    device_.send_tcp(syn);
    auto ip = next_ip();
    EXPECT_EQ(ip.source, address(destination));
    auto tcp = wire::TcpView::parse(ip.payload);
    ASSERT_TRUE(tcp) << destination;
    EXPECT_EQ(tcp->flags(), flag::kRst | flag::kAck) << destination;
    EXPECT_EQ(tcp->ack(), seq + 1) << destination;
    seq += 1000;
  }
  EXPECT_FALSE(listener.accept_one().valid());
  EXPECT_EQ(session_->flow_count(), 0u);
  EXPECT_EQ(session_->counters().drop_host_loopback, 4u);
  EXPECT_EQ(session_->counters().tcp_flows_opened, 0u);
}

TEST_F(HostLoopbackOffTest, Ipv6TcpToTheAliasOrLoopbackIsReset) {
  HostListener listener;
  for (const char* destination : {"fd00::2:2", "::1", "::ffff:127.0.0.1"}) {
    auto syn = testing::device_tcp(40000, listener.port, 5000, 0, flag::kSyn);
    syn.source = address("fd00::2");
    syn.destination = address(destination);
    device_.send_tcp(syn);
    auto tcp = wire::TcpView::parse(next_ip().payload);
    ASSERT_TRUE(tcp) << destination;
    EXPECT_TRUE(tcp->flags() & flag::kRst) << destination;
  }
  EXPECT_EQ(session_->counters().drop_host_loopback, 3u);
}

TEST_F(HostLoopbackOffTest, UdpToTheAliasOrLoopbackIsAdministrativelyProhibited) {
  send_udp("10.0.0.2", "10.0.2.2", 53);
  expect_prohibited(next_ip());
  send_udp("10.0.0.2", "127.0.0.53", 53);
  expect_prohibited(next_ip());
  send_udp("fd00::2", "fd00::2:2", 53);
  expect_prohibited(next_ip());
  send_udp("fd00::2", "::1", 53);
  expect_prohibited(next_ip());
  EXPECT_EQ(session_->flow_count(), 0u);
  EXPECT_EQ(session_->counters().udp_flows_opened, 0u);
  EXPECT_EQ(session_->counters().drop_host_loopback, 4u);
}

TEST_F(HostLoopbackOffTest, EchoToTheAliasIsProhibitedWithoutAPingSocket) {
  device_.send_bytes(echo_request("10.0.0.2", "10.0.2.2", 9, 1, "ping"));
  expect_prohibited(next_ip());
  device_.send_bytes(echo_request("fd00::2", "::1", 9, 1, "ping6"));
  expect_prohibited(next_ip());
  EXPECT_EQ(ping_sockets_opened_, 0);
  EXPECT_EQ(session_->counters().drop_host_loopback, 2u);
}

TEST_F(HostLoopbackOffTest, OtherDestinationsStillOpenFlows) {
  device_.send_bytes(echo_request("10.0.0.2", "192.0.2.1", 9, 1, "ping"));
  device_.turn(std::chrono::milliseconds(20));
  EXPECT_EQ(ping_sockets_opened_, 1);
  EXPECT_EQ(session_->counters().drop_host_loopback, 0u);
}

}  // namespace
}  // namespace rtether::relay
