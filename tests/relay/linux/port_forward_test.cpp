// Engine tests for host -> device port forwarding: a forwarded TCP flow opens
// the device side itself (SYN from the host alias), bridges data both ways
// and passes resets on; a forwarded UDP association carries datagrams both
// ways; forwards go to the address the device sends from.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <set>
#include <string>

#include "io/datagram.hpp"
#include "relay/client_session.hpp"
#include "relay/fake_device.hpp"
#include "wire/raw_packets.hpp"

namespace rtether::relay {
namespace {

using testing::address;
using testing::FakeDevice;
using testing::HostListener;
namespace flag = wire::tcp_flag;
// The PortForwarder id these flows are opened under.
constexpr std::uint32_t kForwardId = 1;

wire::Bytes bytes_of(const std::string& text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

class PortForwardTest : public ::testing::Test {
 protected:
  PortForwardTest() {
    session_ = std::make_unique<ClientSession>(loop_, device_.take_relay_end(), 3, config_,
                                               [](std::uint32_t) {});
    session_->start();
  }

  // A host connection: `peer` is the host application's end, the returned
  // fd the relay's accepted end.
  io::Fd host_connection(io::Fd& peer) {
    HostListener listener;
    auto connection =
        io::connect_nonblocking(io::Transport::Tcp, {address("127.0.0.1"), listener.port});
    EXPECT_TRUE(connection);
    peer = std::move(connection->fd);
    io::Fd accepted;
    device_.run_until([&] {
      accepted = listener.accept_one();
      return accepted.valid();
    });
    return accepted;
  }

  std::string read_host(int fd, std::size_t want) {
    std::string text;
    device_.run_until([&] {
      char buffer[4096];
      long got = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
      if (got > 0) text.append(buffer, static_cast<std::size_t>(got));
      return text.size() >= want;
    });
    return text;
  }

  RelayConfig config_;
  io::EventLoop loop_;
  FakeDevice device_{loop_};
  std::unique_ptr<ClientSession> session_;
};

TEST_F(PortForwardTest, TcpOpensTheDeviceSideAndBridgesBothWays) {
  io::Fd peer;
  ASSERT_TRUE(session_->forwards().open_tcp(host_connection(peer), 8080, kForwardId));
  auto syn = device_.next_tcp();
  ASSERT_TRUE(syn);
  EXPECT_EQ(syn->flags(), flag::kSyn);
  EXPECT_EQ(syn->destination_port(), 8080);
  EXPECT_GE(syn->source_port(), 49152);
  EXPECT_TRUE(syn->options().mss);
  EXPECT_TRUE(syn->options().window_scale);
  const std::uint16_t relay_port = syn->source_port();
  const std::uint32_t iss = syn->seq();

  // The device's server accepts: SYN-ACK from 10.0.0.2:8080 to 10.0.2.2.
  wire::TcpSegmentHeader answer;
  answer.source = address("10.0.0.2");
  answer.destination = address("10.0.2.2");
  answer.source_port = 8080;
  answer.destination_port = relay_port;
  answer.seq = 7000;
  answer.ack = iss + 1;
  answer.flags = flag::kSyn | flag::kAck;
  answer.window = 65535;
  answer.mss = 1460;
  device_.send_tcp(answer);
  auto ack = device_.next_tcp();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->flags(), flag::kAck);
  EXPECT_EQ(ack->ack(), 7001u);
  EXPECT_EQ(session_->counters().forward_tcp_opened, 1u);

  // Host -> device.
  ASSERT_EQ(::send(peer.get(), "hello", 5, MSG_NOSIGNAL), 5);
  auto data = device_.next_tcp_skipping_pure_acks();
  ASSERT_TRUE(data);
  EXPECT_EQ(std::string(data->payload().begin(), data->payload().end()), "hello");
  EXPECT_EQ(data->seq(), iss + 1);

  // Device -> host, acknowledging the host's bytes.
  answer.flags = flag::kAck | flag::kPsh;
  answer.seq = 7001;
  answer.ack = iss + 6;
  answer.mss.reset();
  device_.send_tcp(answer, bytes_of("world"));
  EXPECT_EQ(read_host(peer.get(), 5), "world");

  // The device resets: the host connection is reset too.
  answer.flags = flag::kRst;
  answer.seq = 7006;
  device_.send_tcp(answer);
  long got = 0;
  device_.run_until([&] {
    char buffer[16];
    got = ::recv(peer.get(), buffer, sizeof buffer, MSG_DONTWAIT);
    return got == -1 ? errno != EAGAIN : true;
  });
  EXPECT_EQ(got, -1);
  EXPECT_EQ(errno, ECONNRESET);
  EXPECT_EQ(session_->flow_count(), 0u);
}

TEST_F(PortForwardTest, TcpRefusedByTheDeviceResetsTheHostConnection) {
  io::Fd peer;
  ASSERT_TRUE(session_->forwards().open_tcp(host_connection(peer), 9, kForwardId));
  auto syn = device_.next_tcp();
  ASSERT_TRUE(syn);
  wire::TcpSegmentHeader refuse;
  refuse.source = address("10.0.0.2");
  refuse.destination = address("10.0.2.2");
  refuse.source_port = 9;
  refuse.destination_port = syn->source_port();
  refuse.ack = syn->seq() + 1;
  refuse.flags = flag::kRst | flag::kAck;
  device_.send_tcp(refuse);
  int error = 0;
  device_.run_until([&] {
    char buffer[16];
    long got = ::recv(peer.get(), buffer, sizeof buffer, MSG_DONTWAIT);
    error = got < 0 ? errno : 0;
    return got == 0 || (got < 0 && errno != EAGAIN);
  });
  EXPECT_EQ(error, ECONNRESET);
}

TEST_F(PortForwardTest, TcpToASilentDeviceResendsTheSynThenResetsTheHost) {
  // A session of its own whose SYN timeouts are short (declared before it).
  RelayConfig config;
  config.tcp.syn_ack_timeout = std::chrono::milliseconds(50);
  config.tcp.syn_ack_retries = 1;
  FakeDevice device{loop_};
  ClientSession session(loop_, device.take_relay_end(), 4, config, [](std::uint32_t) {});
  session.start();
  io::Fd peer;
  io::Fd accepted = host_connection(peer);
  ASSERT_TRUE(session.forwards().open_tcp(std::move(accepted), 8080, kForwardId));
  auto first = device.next_tcp();
  auto again = device.next_tcp();
  ASSERT_TRUE(first && again);
  EXPECT_EQ(again->flags(), flag::kSyn);
  EXPECT_EQ(again->seq(), first->seq());
  int error = 0;
  device.run_until([&] {
    char buffer[8];
    long got = ::recv(peer.get(), buffer, sizeof buffer, MSG_DONTWAIT);
    error = got < 0 ? errno : 0;
    return got == 0 || (got < 0 && errno != EAGAIN);
  });
  EXPECT_EQ(error, ECONNRESET);
  EXPECT_EQ(session.flow_count(), 0u);
  EXPECT_EQ(session.counters().flows_expired, 1u);
}

// Finding: the device may still hold a previous session's connection on
// the relay-side port; its challenge ACK to our SYN gets a bare RST at the
// sequence number it acknowledged (RFC 9293 3.10.7.3), and the SYN is resent.
TEST_F(PortForwardTest, TcpStaleDeviceConnectionIsResetAndTheOpenGoesOn) {
  config_.tcp.syn_ack_timeout = std::chrono::milliseconds(50);
  io::Fd peer;
  ASSERT_TRUE(session_->forwards().open_tcp(host_connection(peer), 8080, kForwardId));
  auto syn = device_.next_tcp();
  ASSERT_TRUE(syn);
  const std::uint16_t relay_port = syn->source_port();
  const std::uint32_t iss = syn->seq();
  wire::TcpSegmentHeader challenge;
  challenge.source = address("10.0.0.2");
  challenge.destination = address("10.0.2.2");
  challenge.source_port = 8080;
  challenge.destination_port = relay_port;
  challenge.seq = 5555;
  challenge.ack = iss + 100000;  // the old connection's snd_nxt
  challenge.flags = flag::kAck;
  challenge.window = 65535;
  device_.send_tcp(challenge);
  auto rst = device_.next_tcp();
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->flags(), flag::kRst);
  EXPECT_EQ(rst->seq(), iss + 100000);
  EXPECT_EQ(rst->destination_port(), 8080);
  // The open goes on: the SYN is resent and a real SYN-ACK completes it.
  auto again = device_.next_tcp();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->flags(), flag::kSyn);
  EXPECT_EQ(again->seq(), iss);
  challenge.seq = 9000;
  challenge.ack = iss + 1;
  challenge.flags = flag::kSyn | flag::kAck;
  device_.send_tcp(challenge);
  auto ack = device_.next_tcp();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->flags(), flag::kAck);
  EXPECT_EQ(ack->ack(), 9001u);
}

// A reconnecting client gets a new session; its forwarded flows must not
// start on the ports the previous session used first.
TEST_F(PortForwardTest, ForwardedPortsStartAtARandomOffsetPerSession) {
  std::set<std::uint16_t> first_ports;
  for (int i = 0; i < 4; ++i) {
    FakeDevice device{loop_};
    ClientSession session(loop_, device.take_relay_end(), 10 + i, config_, [](std::uint32_t) {});
    session.start();
    io::Fd peer;
    HostListener listener;
    auto connection =
        io::connect_nonblocking(io::Transport::Tcp, {address("127.0.0.1"), listener.port});
    ASSERT_TRUE(connection);
    io::Fd accepted;
    device.run_until([&] {
      accepted = listener.accept_one();
      return accepted.valid();
    });
    ASSERT_TRUE(session.forwards().open_tcp(std::move(accepted), 80, kForwardId));
    auto syn = device.next_tcp();
    ASSERT_TRUE(syn);
    EXPECT_GE(syn->source_port(), 49152);
    first_ports.insert(syn->source_port());
  }
  EXPECT_GT(first_ports.size(), 1u);  // all four equal: p = 16384^-3
}

TEST_F(PortForwardTest, ForwardsGoToTheAddressTheDeviceSendsFrom) {
  // A packet from 10.0.0.9 (say, a device configured differently) teaches
  // the session its address. It goes to a bound host socket, so no error
  // comes back.
  io::Fd sink = io::bind_udp({address("127.0.0.1"), 0});
  sockaddr_in bound{};
  socklen_t length = sizeof bound;
  ::getsockname(sink.get(), reinterpret_cast<sockaddr*>(&bound), &length);
  wire::UdpDatagramHeader hello;
  hello.source = address("10.0.0.9");
  hello.destination = address("10.0.2.2");
  hello.source_port = 1;
  hello.destination_port = ntohs(bound.sin_port);
  device_.send_udp(hello, bytes_of("x"));
  device_.run_until([&] { return session_->counters().packets_from_device > 0; });
  EXPECT_EQ(session_->forwards().device_address(wire::IpVersion::V4), address("10.0.0.9"));
  EXPECT_EQ(session_->forwards().device_address(wire::IpVersion::V6), address("fd00::2"));
  io::Fd peer;
  ASSERT_TRUE(session_->forwards().open_tcp(host_connection(peer), 80, kForwardId));
  auto syn = device_.next_tcp_skipping_pure_acks();
  ASSERT_TRUE(syn);
  auto ip = wire::parse_ip(device_.packets().back());
  EXPECT_EQ(ip.packet->destination, address("10.0.0.9"));
}

// Packets from 0.0.0.0, ::, multicast, loopback or link-local sources, and
// fragments (dropped before anything reads them), do not change the
// address forwards go to.
TEST_F(PortForwardTest, OnlyUnicastSourcesOfValidPacketsTeachTheDeviceAddress) {
  io::Fd sink = io::bind_udp({address("127.0.0.1"), 0});
  sockaddr_in bound{};
  socklen_t length = sizeof bound;
  ::getsockname(sink.get(), reinterpret_cast<sockaddr*>(&bound), &length);
  wire::UdpDatagramHeader hello;
  hello.destination = address("10.0.2.2");
  hello.source_port = 1;
  hello.destination_port = ntohs(bound.sin_port);
  int sent = 0;
  for (const char* source : {"10.0.0.9", "0.0.0.0", "224.0.0.5", "127.0.0.1", "169.254.3.4",
                             "255.255.255.255"}) {
    hello.source = address(source);
    device_.send_udp(hello, bytes_of("x"));
    ++sent;
  }
  hello.destination = address("fd00::2:2");
  for (const char* source : {"fd00::9", "::", "fe80::1", "ff02::1", "::1", "::ffff:10.0.0.1"}) {
    hello.source = address(source);
    device_.send_udp(hello, bytes_of("x"));
    ++sent;
  }
  // A non-first fragment from yet another address.
  wire::test::RawIpv4 fragment;
  fragment.source = address("10.0.0.77");
  fragment.destination = address("10.0.2.2");
  fragment.flags_fragment = 0x0010;
  fragment.payload = wire::test::ByteVector(16, 0);
  device_.send_bytes(wire::test::build(fragment));
  ++sent;
  device_.run_until(
      [&] { return session_->counters().packets_from_device >= static_cast<unsigned>(sent); });
  EXPECT_EQ(session_->counters().drop_fragment, 1u);
  EXPECT_EQ(session_->forwards().device_address(wire::IpVersion::V4), address("10.0.0.9"));
  EXPECT_EQ(session_->forwards().device_address(wire::IpVersion::V6), address("fd00::9"));
}

TEST_F(PortForwardTest, UdpCarriesDatagramsBothWays) {
  // The forward's port and a host peer.
  io::Fd listener = io::bind_udp({address("127.0.0.1"), 0});
  io::Endpoint forward = *io::local_endpoint(listener.get());
  io::Fd peer = io::bind_udp({address("127.0.0.1"), 0});
  io::Endpoint peer_endpoint = *io::local_endpoint(peer.get());

  auto socket = io::open_udp_peer(forward, peer_endpoint);
  ASSERT_TRUE(socket);
  auto key =
      session_->forwards().open_udp(std::move(*socket), peer_endpoint, 5353, kForwardId,
                                    bytes_of("query"));
  ASSERT_TRUE(key);
  auto packet = device_.next_packet();
  ASSERT_TRUE(packet);
  auto ip = wire::parse_ip(*packet);
  auto udp = wire::UdpView::parse(ip.packet->payload);
  ASSERT_TRUE(udp);
  EXPECT_EQ(ip.packet->source, address("10.0.2.2"));
  EXPECT_EQ(udp->destination_port(), 5353);
  EXPECT_EQ(std::string(udp->payload().begin(), udp->payload().end()), "query");

  // A later datagram that still reached the listening socket.
  EXPECT_TRUE(session_->forwards().deliver_udp(*key, peer_endpoint, bytes_of("again")));
  auto second = device_.next_packet();
  ASSERT_TRUE(second);
  // Another host peer never reaches this association, even with its key
  // (a stale key whose port now belongs to someone else's flow).
  io::Endpoint other_peer{address("127.0.0.1"), static_cast<std::uint16_t>(peer_endpoint.port ^ 1)};
  const auto packets_before = session_->counters().packets_to_device;
  EXPECT_FALSE(session_->forwards().deliver_udp(*key, other_peer, bytes_of("injected")));
  EXPECT_EQ(session_->counters().packets_to_device, packets_before);

  // The device answers; the peer gets it from the forward's port.
  wire::UdpDatagramHeader reply;
  reply.source = address("10.0.0.2");
  reply.destination = address("10.0.2.2");
  reply.source_port = 5353;
  reply.destination_port = udp->source_port();
  device_.send_udp(reply, bytes_of("answer"));
  std::string text;
  io::Endpoint from;
  device_.run_until([&] {
    std::uint8_t buffer[100];
    auto got = io::recv_from(peer.get(), wire::MutableBytes{buffer, sizeof buffer});
    if (got && got->size > 0) {
      text.assign(reinterpret_cast<char*>(buffer), got->size);
      from = got->from;
    }
    return !text.empty();
  });
  EXPECT_EQ(text, "answer");
  EXPECT_EQ(from.port, forward.port);
  EXPECT_EQ(session_->counters().forward_udp_opened, 1u);
}

// A forward bound to an IPv6 host address carries an IPv4 device's
// datagrams: the host socket's error queue is the IPv6 one, and an ICMPv6
// port unreachable from the host peer reaches the device as ICMPv4.
TEST_F(PortForwardTest, UdpForwardOnIpv6ReportsHostErrorsToTheDevice) {
  io::Fd listener = io::bind_udp({address("::1"), 0});
  io::Endpoint forward = *io::local_endpoint(listener.get());
  io::Endpoint peer_endpoint;
  {
    io::Fd peer = io::bind_udp({address("::1"), 0});
    peer_endpoint = *io::local_endpoint(peer.get());
  }  // closed: the peer's port is unreachable from now on
  auto socket = io::open_udp_peer(forward, peer_endpoint);
  ASSERT_TRUE(socket);
  auto key =
      session_->forwards().open_udp(std::move(*socket), peer_endpoint, 5353, kForwardId,
                                    bytes_of("query"));
  ASSERT_TRUE(key);
  auto packet = device_.next_packet();
  ASSERT_TRUE(packet);
  auto ip = wire::parse_ip(*packet);
  ASSERT_TRUE(ip.packet);
  EXPECT_EQ(ip.packet->version, wire::IpVersion::V4);
  auto udp = wire::UdpView::parse(ip.packet->payload);
  ASSERT_TRUE(udp);

  wire::UdpDatagramHeader reply;
  reply.source = address("10.0.0.2");
  reply.destination = address("10.0.2.2");
  reply.source_port = 5353;
  reply.destination_port = udp->source_port();
  device_.send_udp(reply, bytes_of("answer"));
  auto error = device_.next_packet();
  ASSERT_TRUE(error);
  auto error_ip = wire::parse_ip(*error);
  ASSERT_TRUE(error_ip.packet);
  EXPECT_EQ(error_ip.packet->protocol, wire::ip_protocol::kIcmp);
  EXPECT_EQ(error_ip.packet->source, address("10.0.2.2"));
  EXPECT_EQ(error_ip.packet->destination, address("10.0.0.2"));
  auto icmp = wire::IcmpView::parse(error_ip.packet->payload);
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->type(), wire::icmp_type::kDestUnreachable);
  EXPECT_EQ(icmp->code(), 3);  // port unreachable
  EXPECT_EQ(session_->counters().icmp_errors_to_device, 1u);
}

// A datagram bigger than one device-side packet can carry (an IPv6 host
// peer's toward an IPv4 device) is dropped and counted, never sent short or
// counted as sent; whether it came through the forward's listening socket
// or the association's own socket.
TEST_F(PortForwardTest, UdpTooBigForTheDeviceIsDroppedAndCounted) {
  io::Fd listener = io::bind_udp({address("::1"), 0});
  io::Endpoint forward = *io::local_endpoint(listener.get());
  io::Fd peer = io::bind_udp({address("::1"), 0});
  io::Endpoint peer_endpoint = *io::local_endpoint(peer.get());
  auto socket = io::open_udp_peer(forward, peer_endpoint);
  ASSERT_TRUE(socket);
  const std::string big(65508, 'x');  // one byte over IPv4's 65507
  auto key = session_->forwards().open_udp(std::move(*socket), peer_endpoint, 5353, kForwardId,
                                           bytes_of(big));
  ASSERT_TRUE(key);
  EXPECT_EQ(session_->counters().drop_udp_too_big, 1u);
  EXPECT_EQ(session_->counters().packets_to_device, 0u);
  EXPECT_TRUE(session_->forwards().deliver_udp(*key, peer_endpoint, bytes_of(big)));
  EXPECT_EQ(session_->counters().drop_udp_too_big, 2u);

  // Through the association's socket: the big one is dropped, the small
  // one after it delivered.
  sockaddr_in6 to{};
  to.sin6_family = AF_INET6;
  to.sin6_port = htons(forward.port);
  to.sin6_addr = in6addr_loopback;
  ASSERT_EQ(::sendto(peer.get(), big.data(), big.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
            static_cast<long>(big.size()));
  ASSERT_EQ(::sendto(peer.get(), "small", 5, 0, reinterpret_cast<sockaddr*>(&to), sizeof to), 5);
  auto packet = device_.next_packet();
  ASSERT_TRUE(packet);
  auto ip = wire::parse_ip(*packet);
  ASSERT_TRUE(ip.packet);
  auto udp = wire::UdpView::parse(ip.packet->payload);
  ASSERT_TRUE(udp);
  EXPECT_EQ(std::string(udp->payload().begin(), udp->payload().end()), "small");
  EXPECT_EQ(session_->counters().drop_udp_too_big, 3u);
  EXPECT_EQ(session_->counters().packets_to_device, 1u);
}

}  // namespace
}  // namespace rtether::relay
