// Engine tests for ICMP: echo through an injected ping-socket factory (the
// forbidden path and the identifier mapping of replies), and ICMP errors the
// relay sends the device (UDP port unreachable from a real loopback socket).
// Only io/ calls, but run on Linux only: Wine 8 never reports a UDP port
// unreachable (SIO_UDP_CONNRESET is accepted and does nothing).
#include "relay/icmp_flow.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "relay/client_session.hpp"
#include "relay/error_quote.hpp"
#include "relay/fake_device.hpp"
#include "wire/checksum.hpp"

namespace rtether::relay {
namespace {

using testing::address;
using testing::echo_request;
using testing::FakeDevice;
using testing::FakePingSocket;

// What a ping-socket opener returns when the OS says no.
io::Result<io::Fd> refused(std::errc error) { return std::make_error_code(error); }

class IcmpTest : public ::testing::Test {
 protected:
  void start() {
    session_ = std::make_unique<ClientSession>(loop_, device_.take_relay_end(), 1, config_,
                                               [](std::uint32_t) {});
    session_->start();
  }

  // The next packet to the device, parsed as ICMP (the view stays valid:
  // FakeDevice keeps every packet).
  std::optional<std::pair<wire::IpPacket, wire::IcmpView>> next_icmp() {
    auto packet = device_.next_packet();
    if (!packet) return std::nullopt;
    kept_.push_back(std::move(*packet));
    auto ip = wire::parse_ip(kept_.back());
    if (!ip.packet) return std::nullopt;
    auto icmp = wire::IcmpView::parse(ip.packet->payload);
    if (!icmp) return std::nullopt;
    return std::make_pair(*ip.packet, *icmp);
  }

  RelayConfig config_;
  io::EventLoop loop_;
  FakeDevice device_{loop_};
  std::unique_ptr<ClientSession> session_;
  std::deque<std::vector<std::uint8_t>> kept_;
};

TEST_F(IcmpTest, ForbiddenPingIsAnsweredAdministrativelyProhibited) {
  int opened = 0;
  config_.open_ping_socket = [&](const io::Endpoint&) {
    ++opened;
    return refused(std::errc::permission_denied);
  };
  start();
  auto request = echo_request("10.0.0.2", "192.0.2.1", 77, 1, "are you there");
  for (int i = 0; i < 2; ++i) {
    device_.send_bytes(request);
    auto reply = next_icmp();
    ASSERT_TRUE(reply);
    const auto& [ip, icmp] = *reply;
    EXPECT_EQ(ip.source, address("192.0.2.1"));
    EXPECT_EQ(ip.destination, address("10.0.0.2"));
    EXPECT_EQ(icmp.type(), wire::icmp_type::kDestUnreachable);
    EXPECT_EQ(icmp.code(), 13);
    EXPECT_EQ(wire::internet_checksum_reference(icmp.bytes()), 0);
    // The whole request is quoted (it is small).
    EXPECT_EQ(std::vector<std::uint8_t>(icmp.payload().begin(), icmp.payload().end()), request);
  }
  EXPECT_EQ(opened, 2);  // no flow is kept for a refused echo
  EXPECT_EQ(session_->flow_count(), 0u);
  EXPECT_EQ(session_->counters().drop_icmp_forbidden, 2u);
  EXPECT_EQ(session_->counters().icmp_errors_to_device, 2u);
}

TEST_F(IcmpTest, ForbiddenPing6IsAnsweredAdministrativelyProhibited) {
  config_.open_ping_socket = [](const io::Endpoint&) {
    return refused(std::errc::permission_denied);
  };
  start();
  device_.send_bytes(echo_request("fd00::2", "2001:db8::1", 5, 1, "v6"));
  auto reply = next_icmp();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->first.protocol, wire::ip_protocol::kIcmpv6);
  EXPECT_EQ(reply->second.type(), wire::icmp_type::kV6DestUnreachable);
  EXPECT_EQ(reply->second.code(), 1);
}

TEST_F(IcmpTest, RepliesGetTheDeviceIdentifierBack) {
  // The "ping socket" is a loopback UDP pair; the test plays the kernel.
  FakePingSocket ping;
  config_.open_ping_socket = ping.opener();
  start();
  device_.send_bytes(echo_request("10.0.0.2", "10.0.2.2", 0x1234, 9, "payload!"));
  std::uint8_t sent[2000];
  long got = -1;
  ASSERT_TRUE(device_.run_until([&] {
    got = testing::receive_now(ping.kernel_end.get(), sent);
    return got > 0;
  }));
  EXPECT_EQ(ping.asked.address, address("127.0.0.1"));  // 10.0.2.2 is the host's loopback
  ASSERT_EQ(got, 16);
  EXPECT_EQ(sent[0], wire::icmp_type::kEchoRequest);
  EXPECT_EQ(std::memcmp(sent + 8, "payload!", 8), 0);

  // The kernel answers with its own identifier.
  std::uint8_t reply[16];
  std::memcpy(reply, sent, sizeof reply);
  reply[0] = wire::icmp_type::kEchoReply;
  wire::store_be16(reply + 4, 0x9999);
  ASSERT_EQ(testing::send_all(ping.kernel_end.get(), reply), 16u);
  auto answer = next_icmp();
  ASSERT_TRUE(answer);
  const auto& [ip, icmp] = *answer;
  EXPECT_EQ(ip.source, address("10.0.2.2"));
  EXPECT_EQ(ip.destination, address("10.0.0.2"));
  EXPECT_EQ(icmp.type(), wire::icmp_type::kEchoReply);
  EXPECT_EQ(icmp.echo_identifier(), 0x1234);
  EXPECT_EQ(icmp.echo_sequence(), 9);
  EXPECT_EQ(std::string(icmp.payload().begin(), icmp.payload().end()), "payload!");
  EXPECT_EQ(wire::internet_checksum_reference(icmp.bytes()), 0);
  EXPECT_EQ(session_->counters().icmp_flows_opened, 1u);

  // Anything but an echo reply from the socket is counted and dropped.
  reply[0] = wire::icmp_type::kEchoRequest;
  ASSERT_EQ(testing::send_all(ping.kernel_end.get(), reply), 16u);
  device_.run_until([&] { return session_->counters().drop_icmp_reply > 0; });
  EXPECT_EQ(session_->counters().drop_icmp_reply, 1u);
}

TEST_F(IcmpTest, OtherDeviceIcmpIsCountedNotForwarded) {
  config_.open_ping_socket = [](const io::Endpoint&) {
    ADD_FAILURE() << "no socket for a non-echo message";
    return refused(std::errc::permission_denied);
  };
  start();
  wire::IcmpMessageHeader header;
  header.source = address("10.0.0.2");
  header.destination = address("192.0.2.1");
  header.type = wire::icmp_type::kDestUnreachable;
  std::vector<std::uint8_t> packet(200);
  packet.resize(wire::build_icmp(packet, header, std::vector<std::uint8_t>(28, 0)));
  device_.send_bytes(packet);
  device_.run_until([&] { return session_->counters().drop_icmp_unsupported > 0; });
  EXPECT_EQ(session_->counters().drop_icmp_unsupported, 1u);
  EXPECT_EQ(session_->counters().icmp_errors_to_device, 0u);  // never an error about an error
}

std::uint16_t closed_udp_port() {
  io::Fd fd = io::bind_udp({address("127.0.0.1"), 0});
  return io::local_endpoint(fd.get())->port;  // closed again when fd goes
}

TEST_F(IcmpTest, UdpToAClosedHostPortGivesTheDevicePortUnreachable) {
  start();
  wire::UdpDatagramHeader header;
  header.source = address("10.0.0.2");
  header.destination = address("10.0.2.2");
  header.source_port = 41000;
  header.destination_port = closed_udp_port();
  const std::string text = "hello?";
  device_.send_udp(header, wire::Bytes{reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  auto error = next_icmp();
  ASSERT_TRUE(error);
  const auto& [ip, icmp] = *error;
  EXPECT_EQ(ip.source, address("10.0.2.2"));
  EXPECT_EQ(ip.destination, address("10.0.0.2"));
  EXPECT_EQ(icmp.type(), wire::icmp_type::kDestUnreachable);
  EXPECT_EQ(icmp.code(), 3);
  EXPECT_EQ(wire::internet_checksum_reference(icmp.bytes()), 0);
  // The quote is the device's IP header and UDP header.
  ASSERT_EQ(icmp.payload().size(), 28u);
  EXPECT_EQ(wire::IpAddress::v4_from(icmp.payload().data() + 12), address("10.0.0.2"));
  EXPECT_EQ(wire::load_be16(icmp.payload().data() + 20), 41000);
  EXPECT_EQ(wire::load_be16(icmp.payload().data() + 22), header.destination_port);
  EXPECT_EQ(session_->counters().icmp_errors_to_device, 1u);
}

// RFC 1122 3.2.2 / 4.2.3.10, RFC 4443 2.4 (e.3): nothing answers a packet
// the device sent to a broadcast or multicast address (no ICMP error, no
// TCP reset); each case is a counted drop.
TEST_F(IcmpTest, PacketsToBroadcastOrMulticastGetNoErrorAndNoReset) {
  // What open_ping_socket reports for a connect to a broadcast address.
  config_.open_ping_socket = [](const io::Endpoint&) {
    return refused(std::errc::operation_not_permitted);
  };
  start();
  device_.send_bytes(echo_request("10.0.0.2", "255.255.255.255", 9, 1, "anyone?"));
  // A datagram socket cannot connect to 255.255.255.255 without
  // SO_BROADCAST (EACCES); nothing is sent anywhere.
  wire::UdpDatagramHeader udp;
  udp.source = address("10.0.0.2");
  udp.destination = address("255.255.255.255");
  udp.source_port = 41001;
  udp.destination_port = 9;
  device_.send_udp(udp, wire::Bytes{reinterpret_cast<const std::uint8_t*>("x"), 1});
  wire::TcpSegmentHeader syn;
  syn.source = address("10.0.0.2");
  syn.source_port = 41002;
  syn.destination_port = 80;
  syn.seq = 1;
  syn.flags = wire::tcp_flag::kSyn;
  syn.window = 65535;
  for (const char* destination : {"255.255.255.255", "224.0.0.1"}) {
    syn.destination = address(destination);
    device_.send_tcp(syn);
  }
  syn.destination = address("ff02::1");
  syn.source = address("fd00::2");
  syn.flags = wire::tcp_flag::kAck;  // not even a reset for a stray segment
  device_.send_tcp(syn);
  device_.run_until([&] { return session_->counters().packets_from_device >= 5; });
  device_.run_until([] { return false; }, std::chrono::milliseconds(100));
  const auto& counters = session_->counters();
  EXPECT_EQ(counters.packets_from_device, 5u);
  EXPECT_EQ(counters.drop_icmp_error_not_unicast, 2u);  // the ping and the datagram
  EXPECT_EQ(counters.drop_tcp_not_unicast, 3u);
  EXPECT_EQ(counters.tcp_flows_opened, 0u);
  EXPECT_EQ(counters.icmp_errors_to_device, 0u);
  EXPECT_EQ(counters.packets_to_device, 0u);
  EXPECT_TRUE(device_.packets().empty());
}

// RFC 4443 2.4 (f): ICMP errors toward the device are rate-limited per
// session (a burst, then one per interval); the rest are counted.
TEST_F(IcmpTest, ErrorsTowardTheDeviceAreRateLimited) {
  config_.open_ping_socket = [](const io::Endpoint&) {
    return refused(std::errc::permission_denied);  // each answered "prohibited"
  };
  config_.icmp_error_burst = 10;
  config_.icmp_error_interval = std::chrono::seconds(30);  // no refill within the test
  start();
  for (std::uint16_t seq = 0; seq < 25; ++seq)
    device_.send_bytes(echo_request("10.0.0.2", "192.0.2.1", 77, seq, "x"));
  device_.run_until([&] { return session_->counters().packets_from_device >= 25; });
  device_.run_until([&] { return device_.packets().size() >= 10; });
  EXPECT_EQ(session_->counters().icmp_errors_to_device, 10u);
  EXPECT_EQ(session_->counters().drop_icmp_error_rate, 15u);
  EXPECT_EQ(device_.packets().size(), 10u);
}

// After the burst, the limit lets errors through again as time passes.
TEST_F(IcmpTest, ErrorRateLimitRefillsWithTime) {
  config_.open_ping_socket = [](const io::Endpoint&) {
    return refused(std::errc::permission_denied);
  };
  config_.icmp_error_burst = 2;
  config_.icmp_error_interval = std::chrono::milliseconds(50);
  start();
  for (std::uint16_t seq = 0; seq < 5; ++seq)
    device_.send_bytes(echo_request("10.0.0.2", "192.0.2.1", 78, seq, "x"));
  device_.run_until([&] { return session_->counters().packets_from_device >= 5; });
  const auto sent = session_->counters().icmp_errors_to_device;
  EXPECT_GE(sent, 2u);  // the burst (more only on a machine slower than 50 ms per packet)
  EXPECT_EQ(sent + session_->counters().drop_icmp_error_rate, 5u);
  device_.run_until([] { return false; }, std::chrono::milliseconds(150));
  device_.send_bytes(echo_request("10.0.0.2", "192.0.2.1", 78, 5, "x"));
  device_.run_until([&] { return session_->counters().packets_from_device >= 6; });
  EXPECT_EQ(session_->counters().icmp_errors_to_device, sent + 1);
}

// A host path MTU reaches the device in its own IP version's terms: an IPv6
// forward socket's 1500 is 1480 for an IPv4 device (same payload size).
TEST(DevicePathMtu, TranslatesBetweenIpVersions) {
  using wire::IpVersion;
  EXPECT_EQ(device_path_mtu(1500, IpVersion::V4, IpVersion::V4), 1500u);
  EXPECT_EQ(device_path_mtu(1500, IpVersion::V6, IpVersion::V6), 1500u);
  EXPECT_EQ(device_path_mtu(1500, IpVersion::V6, IpVersion::V4), 1480u);
  EXPECT_EQ(device_path_mtu(1280, IpVersion::V4, IpVersion::V6), 1300u);
  EXPECT_EQ(device_path_mtu(0, IpVersion::V6, IpVersion::V4), 0u);   // unknown stays unknown
  EXPECT_EQ(device_path_mtu(10, IpVersion::V6, IpVersion::V4), 0u);  // nonsense, no wrap
}

}  // namespace
}  // namespace rtether::relay
