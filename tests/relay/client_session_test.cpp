// Engine tests: a ClientSession with a fake device link (FakeDevice) and real
// loopback sockets on the host side.
#include "relay/client_session.hpp"

#include <gtest/gtest.h>

#include <string>

#include "io/datagram.hpp"
#include "relay/fake_device.hpp"

namespace rtether::relay {
namespace {

using testing::address;
using testing::FakeDevice;
using testing::HostListener;
namespace flag = wire::tcp_flag;

constexpr std::uint16_t kDevicePort = 40000;

std::uint16_t closed_port() {
  HostListener listener;
  return listener.port;  // closed again when listener goes out of scope
}

class ClientSessionTest : public ::testing::Test {
 protected:
  ClientSessionTest() : device_(loop_) {
    session_ = std::make_unique<ClientSession>(loop_, device_.take_relay_end(), 7, config_,
                                               [this](std::uint32_t) { session_closed_ = true; });
    session_->start();
  }

  wire::TcpSegmentHeader device_tcp(std::uint16_t port, std::uint32_t seq, std::uint32_t ack,
                                    std::uint8_t flags) {
    return testing::device_tcp(kDevicePort, port, seq, ack, flags);
  }
  std::optional<std::vector<std::uint8_t>> next_packet() { return device_.next_packet(); }

  RelayConfig config_;
  io::EventLoop loop_;
  FakeDevice device_;
  std::unique_ptr<ClientSession> session_;
  bool session_closed_ = false;
};

TEST_F(ClientSessionTest, SendsClientIdFirst) {
  ASSERT_TRUE(device_.run_until([&] { return device_.client_id().has_value(); }));
  EXPECT_EQ(*device_.client_id(), 7u);
}

TEST_F(ClientSessionTest, SynToListeningPortGetsSynAckAfterHostConnect) {
  HostListener listener;
  device_.send_tcp(device_tcp(listener.port, 1000, 0, flag::kSyn));
  auto packet = next_packet();
  ASSERT_TRUE(packet);
  auto ip = wire::parse_ip(*packet);
  ASSERT_TRUE(ip.packet);
  EXPECT_EQ(ip.packet->source, address("10.0.2.2"));
  EXPECT_EQ(ip.packet->destination, address("10.0.0.2"));
  auto tcp = wire::TcpView::parse(ip.packet->payload);
  ASSERT_TRUE(tcp);
  EXPECT_EQ(tcp->flags(), flag::kSyn | flag::kAck);
  EXPECT_EQ(tcp->ack(), 1001u);
  EXPECT_EQ(tcp->source_port(), listener.port);
  EXPECT_TRUE(tcp->options().mss.has_value());
  EXPECT_TRUE(listener.accept_one().valid());
}

TEST_F(ClientSessionTest, SynToClosedPortGetsResetAtOnce) {
  device_.send_tcp(device_tcp(closed_port(), 5000, 0, flag::kSyn));
  auto packet = next_packet();
  ASSERT_TRUE(packet);
  auto ip = wire::parse_ip(*packet);
  auto tcp = wire::TcpView::parse(ip.packet->payload);
  ASSERT_TRUE(tcp);
  EXPECT_TRUE(tcp->flags() & flag::kRst);
  EXPECT_EQ(tcp->ack(), 5001u);
  EXPECT_EQ(session_->counters().tcp_connect_failed, 1u);
}

TEST_F(ClientSessionTest, SegmentForUnknownFlowGetsStatelessReset) {
  device_.send_tcp(device_tcp(80, 100, 777, flag::kAck));
  auto packet = next_packet();
  ASSERT_TRUE(packet);
  auto tcp = wire::TcpView::parse(wire::parse_ip(*packet).packet->payload);
  EXPECT_EQ(tcp->flags(), flag::kRst);
  EXPECT_EQ(tcp->seq(), 777u);
  EXPECT_EQ(session_->flow_count(), 0u);
  EXPECT_EQ(session_->counters().drop_no_flow, 1u);
}

TEST_F(ClientSessionTest, DataFlowsBothWaysAndIsAckedOnlyWhenTaken) {
  HostListener listener;
  device_.send_tcp(device_tcp(listener.port, 1000, 0, flag::kSyn));
  auto syn_ack = next_packet();
  ASSERT_TRUE(syn_ack);
  auto syn_ack_tcp = wire::TcpView::parse(wire::parse_ip(*syn_ack).packet->payload);
  std::uint32_t relay_seq = syn_ack_tcp->seq() + 1;
  device_.send_tcp(device_tcp(listener.port, 1001, relay_seq, flag::kAck));
  io::Fd host = listener.accept_one();
  ASSERT_TRUE(host.valid());

  std::string request = "hello from the device";
  device_.send_tcp(device_tcp(listener.port, 1001, relay_seq, flag::kAck | flag::kPsh),
                   wire::Bytes{reinterpret_cast<const std::uint8_t*>(request.data()), request.size()});
  auto ack = next_packet();
  ASSERT_TRUE(ack);
  auto ack_tcp = wire::TcpView::parse(wire::parse_ip(*ack).packet->payload);
  EXPECT_EQ(ack_tcp->ack(), 1001u + request.size());

  std::uint8_t buffer[256];
  std::string received;
  ASSERT_TRUE(device_.run_until([&] {
    long n = testing::receive_now(host.get(), buffer);
    if (n > 0) received.append(reinterpret_cast<const char*>(buffer), static_cast<std::size_t>(n));
    return received.size() >= request.size();
  }));
  EXPECT_EQ(received, request);

  std::string reply = "hello from the host";
  ASSERT_EQ(testing::send_all(host.get(), testing::as_bytes(reply)), reply.size());
  auto data = next_packet();
  ASSERT_TRUE(data);
  auto data_tcp = wire::TcpView::parse(wire::parse_ip(*data).packet->payload);
  ASSERT_TRUE(data_tcp);
  EXPECT_EQ(data_tcp->seq(), relay_seq);
  std::string payload(data_tcp->payload().begin(), data_tcp->payload().end());
  EXPECT_EQ(payload, reply);
}

TEST_F(ClientSessionTest, UdpDatagramReachesHostAndReplyComesBack) {
  io::Fd server = io::bind_udp({address("127.0.0.1"), 0});
  const io::Endpoint bound = *io::local_endpoint(server.get());

  wire::UdpDatagramHeader header;
  header.source = address("10.0.0.2");
  header.destination = address("10.0.2.2");
  header.source_port = 5353;
  header.destination_port = bound.port;
  std::string question = "ping";
  device_.send_udp(header, wire::Bytes{reinterpret_cast<const std::uint8_t*>(question.data()), question.size()});

  std::uint8_t buffer[64];
  io::Result<io::Datagram> got = std::make_error_code(std::errc::operation_would_block);
  ASSERT_TRUE(device_.run_until([&] {
    got = io::recv_from(server.get(), buffer);
    return got.ok();
  }));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buffer), got->size), question);
  // The server answers from its own port (a socket sharing it, connected
  // to the relay's).
  auto answering = io::open_udp_peer(bound, got->from);
  ASSERT_TRUE(answering);
  std::string answer = "pong!";
  ASSERT_EQ(testing::send_all(answering->get(), testing::as_bytes(answer)), answer.size());

  auto packet = next_packet();
  ASSERT_TRUE(packet);
  auto ip = wire::parse_ip(*packet);
  ASSERT_TRUE(ip.packet);
  auto udp = wire::UdpView::parse(ip.packet->payload);
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->destination_port(), 5353);
  EXPECT_EQ(std::string(udp->payload().begin(), udp->payload().end()), answer);
}

TEST_F(ClientSessionTest, BadVersionNibbleClosesTheSession) {
  std::uint8_t garbage[64] = {0x51, 0x02};
  device_.send_bytes(garbage);
  ASSERT_TRUE(device_.run_until([&] { return device_.closed(); }));
  EXPECT_TRUE(session_closed_);
}

TEST_F(ClientSessionTest, DeviceHangingUpRightAfterAPacketClosesTheSession) {
  std::uint8_t packet[20] = {0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 47, 0, 0, 10, 0, 0, 2, 10, 0, 2, 2};
  device_.send_bytes(packet);
  device_.hang_up();  // data and end of stream arrive together
  ASSERT_TRUE(device_.run_until([&] { return session_closed_; }));
  EXPECT_EQ(session_->counters().drop_unknown_protocol, 1u);
}

TEST_F(ClientSessionTest, MalformedTransportIsCountedNotFatal) {
  // An IPv4 packet claiming TCP with only 4 bytes of TCP header.
  std::uint8_t packet[24] = {0x45, 0, 0, 24, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 2, 10, 0, 2, 2};
  device_.send_bytes(packet);
  device_.send_bytes(packet);
  ASSERT_TRUE(device_.run_until([&] { return session_->counters().drop_bad_transport == 2; }));
  EXPECT_FALSE(device_.closed());
}

TEST_F(ClientSessionTest, UnknownProtocolIsCounted) {
  std::uint8_t packet[20] = {0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 47, 0, 0, 10, 0, 0, 2, 10, 0, 2, 2};
  device_.send_bytes(packet);
  ASSERT_TRUE(device_.run_until([&] { return session_->counters().drop_unknown_protocol == 1; }));
}

}  // namespace
}  // namespace rtether::relay

namespace rtether::relay {
namespace {

using testing::address;
using testing::FakeDevice;
using testing::HostListener;
namespace flag = wire::tcp_flag;

// Sessions limited to one live flow: a flow in TIME-WAIT must neither count
// against the limit nor block a new SYN on its own 5-tuple.
class TimeWaitTest : public ::testing::Test {
 protected:
  TimeWaitTest() : device_(loop_) {
    config_.max_flows_per_client = 1;
    session_ = std::make_unique<ClientSession>(loop_, device_.take_relay_end(), 0, config_, nullptr);
    session_->start();
  }

  wire::TcpSegmentHeader segment(std::uint16_t source_port, std::uint32_t seq, std::uint32_t ack,
                                 std::uint8_t flags) {
    return testing::device_tcp(source_port, listener_.port, seq, ack, flags);
  }
  std::optional<wire::TcpView> next_tcp() { return device_.next_tcp(); }

  // Opens a connection from source_port, lets the host close first, and
  // finishes the close from the device: the relay's flow ends in TIME-WAIT.
  void connect_and_close(std::uint16_t source_port, std::uint32_t iss) {
    device_.send_tcp(segment(source_port, iss, 0, flag::kSyn));
    auto syn_ack = next_tcp();
    ASSERT_TRUE(syn_ack);
    ASSERT_EQ(syn_ack->flags(), flag::kSyn | flag::kAck);
    std::uint32_t relay_next = syn_ack->seq() + 1;
    device_.send_tcp(segment(source_port, iss + 1, relay_next, flag::kAck));
    io::Fd host;
    ASSERT_TRUE(device_.run_until([&] {
      host = listener_.accept_one();
      return host.valid();
    }));
    host.reset();  // the host closes first
    auto fin = device_.next_tcp_skipping_pure_acks();
    ASSERT_TRUE(fin);
    ASSERT_TRUE(fin->flags() & flag::kFin);
    device_.send_tcp(segment(source_port, iss + 1, relay_next + 1, flag::kAck | flag::kFin));
    auto last_ack = next_tcp();
    ASSERT_TRUE(last_ack);
    EXPECT_EQ(last_ack->ack(), iss + 2);
  }

  RelayConfig config_;
  io::EventLoop loop_;
  FakeDevice device_;
  HostListener listener_;
  std::unique_ptr<ClientSession> session_;
};

TEST_F(TimeWaitTest, FlowInTimeWaitDoesNotCountAgainstTheLimit) {
  connect_and_close(42000, 1000);
  device_.send_tcp(segment(42001, 5000, 0, flag::kSyn));
  auto answer = next_tcp();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->flags(), flag::kSyn | flag::kAck);
  EXPECT_EQ(session_->counters().drop_flow_limit, 0u);
}

TEST_F(TimeWaitTest, SynOnTheSameTupleOpensANewConnection) {
  connect_and_close(42000, 1000);
  device_.send_tcp(segment(42000, 90000, 0, flag::kSyn));
  auto answer = next_tcp();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->flags(), flag::kSyn | flag::kAck);
  EXPECT_EQ(answer->ack(), 90001u);
}

TEST_F(TimeWaitTest, SecondLiveFlowBeyondTheLimitIsRefused) {
  device_.send_tcp(segment(42000, 1000, 0, flag::kSyn));
  ASSERT_TRUE(next_tcp());
  device_.send_tcp(segment(42001, 5000, 0, flag::kSyn));
  auto answer = next_tcp();
  ASSERT_TRUE(answer);
  EXPECT_TRUE(answer->flags() & flag::kRst);
  EXPECT_EQ(session_->counters().drop_flow_limit, 1u);
}

}  // namespace
}  // namespace rtether::relay
