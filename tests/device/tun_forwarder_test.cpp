// Tests for the packet pump (runs as root): a real tun in a test namespace,
// a socketpair standing in for the relay link. A UDP datagram sent inside
// the namespace must come out of the stream as one IP packet; a packet put
// on the stream must reach a socket in the namespace; the session must end
// with the right reason on relay close, bad framing and cancel.
#include "device/tun_forwarder.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <cstring>
#include <future>
#include <vector>

#include "device/tun_builder.hpp"
#include "scoped_netns.hpp"
#include "wire/stream_framer.hpp"

namespace rtether::device {
namespace {

constexpr std::uint16_t kDevicePort = 40000;

std::uint16_t ipv4_header_checksum(const std::uint8_t* header) {
  std::uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) sum += (header[i] << 8) | header[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

// IPv4 + UDP (checksum 0 = none, allowed for IPv4 by RFC 768).
std::vector<std::uint8_t> udp_packet(const char* source, const char* destination,
                                     std::uint16_t source_port, std::uint16_t destination_port,
                                     const std::string& payload) {
  std::vector<std::uint8_t> packet(28 + payload.size());
  auto* p = packet.data();
  p[0] = 0x45;
  wire::store_be16(p + 2, static_cast<std::uint16_t>(packet.size()));
  p[8] = 64;
  p[9] = 17;
  inet_pton(AF_INET, source, p + 12);
  inet_pton(AF_INET, destination, p + 16);
  wire::store_be16(p + 10, ipv4_header_checksum(p));
  wire::store_be16(p + 20, source_port);
  wire::store_be16(p + 22, destination_port);
  wire::store_be16(p + 24, static_cast<std::uint16_t>(8 + payload.size()));
  std::copy(payload.begin(), payload.end(), p + 28);
  return packet;
}

// An IPv6 header with no payload (next header 59, RFC 8200 4.7).
std::vector<std::uint8_t> ipv6_packet(const char* source, const char* destination) {
  std::vector<std::uint8_t> packet(40);
  packet[0] = 0x60;
  packet[6] = 59;
  packet[7] = 64;
  inet_pton(AF_INET6, source, packet.data() + 8);
  inet_pton(AF_INET6, destination, packet.data() + 24);
  return packet;
}

class TunForwarderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    builder_.set_mtu(65520);
    builder_.add_address(*wire::parse_prefix("10.0.0.2/32", error));
    builder_.add_route(*wire::parse_prefix("0.0.0.0/0", error));
    tun_fd_ = builder_.establish();
    int pair[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
    device_end_ = io::Fd(pair[0]);
    relay_end_ = io::Fd(pair[1]);
    cancel_ = io::Fd(eventfd(0, EFD_CLOEXEC));
    NetnsGuard inside(netns_.name());
    udp_ = io::Fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_port = htons(kDevicePort);
    inet_pton(AF_INET, "10.0.0.2", &local.sin_addr);
    ASSERT_EQ(bind(udp_.get(), reinterpret_cast<sockaddr*>(&local), sizeof local), 0);
  }

  std::future<SessionEnd> start(TunForwarder& forwarder) {
    return std::async(std::launch::async,
                      [&] { return forwarder.run(device_end_.get(), cancel_.get()); });
  }

  void cancel() { eventfd_write(cancel_.get(), 1); }

  // Puts a packet on the tun's transmit queue as any sender in the
  // namespace could (a packet socket bypasses the kernel's IPv6 switch), so
  // the forwarder's uplink reads it.
  void transmit_on_tun(const std::vector<std::uint8_t>& packet, std::uint16_t ethertype) {
    NetnsGuard inside(netns_.name());
    io::Fd raw(socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ethertype)));
    ASSERT_TRUE(raw.valid()) << std::strerror(errno);
    sockaddr_ll link{};
    link.sll_family = AF_PACKET;
    link.sll_protocol = htons(ethertype);
    link.sll_ifindex = builder_.tun().index();
    ASSERT_EQ(sendto(raw.get(), packet.data(), packet.size(), 0,
                     reinterpret_cast<sockaddr*>(&link), sizeof link),
              static_cast<ssize_t>(packet.size()))
        << std::strerror(errno);
  }

  // Next IPv4 UDP packet from the stream (the kernel may also send others).
  std::vector<std::uint8_t> next_udp_from_stream() {
    for (int reads = 0; reads < 50; ++reads) {
      pollfd fd{relay_end_.get(), POLLIN, 0};
      if (poll(&fd, 1, 2000) <= 0) break;
      auto space = framer_.writable();
      ssize_t n = recv(relay_end_.get(), space.data(), space.size(), 0);
      if (n <= 0) break;
      framer_.commit(static_cast<std::size_t>(n));
      while (auto packet = framer_.next()) {
        versions_seen_.push_back((*packet)[0] >> 4);
        if ((*packet)[0] >> 4 == 4 && (*packet)[9] == 17) return {packet->begin(), packet->end()};
      }
    }
    return {};
  }

  ScopedNetns netns_{"forwarder"};
  LinuxTunBuilder builder_{"rtt0", netns_.name()};
  int tun_fd_ = -1;
  io::Fd device_end_;
  io::Fd relay_end_;
  io::Fd cancel_;
  io::Fd udp_;
  wire::StreamFramer framer_;
  std::vector<int> versions_seen_;  // of every packet next_udp_from_stream read
};

TEST_F(TunForwarderTest, SendsADatagramFromTheNamespaceToTheRelayAsOnePacket) {
  TunForwarder forwarder(tun_fd_);
  auto session = start(forwarder);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(53);
  inet_pton(AF_INET, "198.51.100.1", &remote.sin_addr);
  std::string payload(30000, 'x');
  ASSERT_EQ(sendto(udp_.get(), payload.data(), payload.size(), 0,
                   reinterpret_cast<sockaddr*>(&remote), sizeof remote),
            static_cast<ssize_t>(payload.size()));
  auto packet = next_udp_from_stream();
  ASSERT_EQ(packet.size(), 28 + payload.size()) << "a 30000-byte datagram fits the MTU unfragmented";
  char destination[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, packet.data() + 16, destination, sizeof destination);
  EXPECT_STREQ(destination, "198.51.100.1");
  EXPECT_EQ(wire::load_be16(packet.data() + 22), 53);
  cancel();
  EXPECT_EQ(session.get().reason, SessionEnd::Reason::Cancelled);
  EXPECT_GE(forwarder.counters().packets_to_relay.load(), 1u);
}

TEST_F(TunForwarderTest, DeliversPacketsFromTheRelayToTheNamespace) {
  TunForwarder forwarder(tun_fd_);
  auto session = start(forwarder);
  // Two packets in one write and a third split across writes: framing must
  // not depend on how the stream is cut.
  auto first = udp_packet("198.51.100.1", "10.0.0.2", 53, kDevicePort, "one");
  auto second = udp_packet("198.51.100.1", "10.0.0.2", 53, kDevicePort, "two");
  auto third = udp_packet("203.0.113.9", "10.0.0.2", 53, kDevicePort, std::string(20000, 'z'));
  std::vector<std::uint8_t> bytes = first;
  bytes.insert(bytes.end(), second.begin(), second.end());
  bytes.insert(bytes.end(), third.begin(), third.begin() + 10);
  ASSERT_EQ(write(relay_end_.get(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  ASSERT_EQ(write(relay_end_.get(), third.data() + 10, third.size() - 10),
            static_cast<ssize_t>(third.size() - 10));
  std::vector<std::size_t> sizes;
  for (int i = 0; i < 3; ++i) {
    pollfd fd{udp_.get(), POLLIN, 0};
    ASSERT_EQ(poll(&fd, 1, 2000), 1) << "datagram " << i << " did not arrive";
    char buffer[65536];
    sizes.push_back(static_cast<std::size_t>(recv(udp_.get(), buffer, sizeof buffer, 0)));
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{3, 3, 20000}));
  cancel();
  EXPECT_EQ(session.get().reason, SessionEnd::Reason::Cancelled);
  EXPECT_EQ(forwarder.counters().packets_to_tun.load(), 3u);
}

TEST_F(TunForwarderTest, WithoutIpv6DropsEveryPacketThatIsNotIpv4BeforeTheStream) {
  TunForwarder forwarder(tun_fd_);
  forwarder.set_ipv6(false);
  auto session = start(forwarder);
  transmit_on_tun(ipv6_packet("fe80::1", "ff02::2"), ETH_P_IPV6);
  transmit_on_tun({0x15, 0, 0, 20}, ETH_P_IP);  // version nibble 1
  transmit_on_tun(udp_packet("10.0.0.2", "198.51.100.1", kDevicePort, 53, "after"), ETH_P_IP);
  auto packet = next_udp_from_stream();
  EXPECT_EQ(packet.size(), 28u + 5u) << "the IPv4 packet behind the dropped ones";
  EXPECT_EQ(versions_seen_, std::vector<int>{4});
  cancel();
  EXPECT_EQ(session.get().reason, SessionEnd::Reason::Cancelled);
  EXPECT_EQ(forwarder.counters().non_ipv4_drops.load(), 2u);
  EXPECT_EQ(forwarder.counters().packets_to_relay.load(), 1u);
}

TEST_F(TunForwarderTest, WithIpv6ForwardsIpv6Packets) {
  TunForwarder forwarder(tun_fd_);
  auto session = start(forwarder);
  transmit_on_tun(ipv6_packet("fd00::2", "2001:db8::1"), ETH_P_IPV6);
  transmit_on_tun(udp_packet("10.0.0.2", "198.51.100.1", kDevicePort, 53, "after"), ETH_P_IP);
  next_udp_from_stream();
  EXPECT_EQ(versions_seen_, (std::vector<int>{6, 4}));
  cancel();
  EXPECT_EQ(session.get().reason, SessionEnd::Reason::Cancelled);
  EXPECT_EQ(forwarder.counters().non_ipv4_drops.load(), 0u);
}

TEST_F(TunForwarderTest, EndsTheSessionWhenTheRelayCloses) {
  TunForwarder forwarder(tun_fd_);
  auto session = start(forwarder);
  relay_end_.reset();
  auto end = session.get();
  EXPECT_EQ(end.reason, SessionEnd::Reason::RelayClosed) << end.detail;
}

TEST_F(TunForwarderTest, EndsTheSessionWithTheReasonOnBadFraming) {
  TunForwarder forwarder(tun_fd_);
  auto session = start(forwarder);
  const std::uint8_t garbage[40] = {0x15};  // version nibble 1
  ASSERT_EQ(write(relay_end_.get(), garbage, sizeof garbage), 40);
  auto end = session.get();
  EXPECT_EQ(end.reason, SessionEnd::Reason::FramingError);
  EXPECT_NE(end.detail.find("bad stream from relay"), std::string::npos) << end.detail;
}

TEST_F(TunForwarderTest, KeepsTheTunForANewSessionAfterAReconnect) {
  TunForwarder forwarder(tun_fd_);
  auto first = start(forwarder);
  relay_end_.reset();
  auto first_end = first.get();
  EXPECT_EQ(first_end.reason, SessionEnd::Reason::RelayClosed) << first_end.detail;
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  device_end_ = io::Fd(pair[0]);
  relay_end_ = io::Fd(pair[1]);
  auto second = start(forwarder);
  auto packet = udp_packet("198.51.100.1", "10.0.0.2", 53, kDevicePort, "again");
  ASSERT_EQ(write(relay_end_.get(), packet.data(), packet.size()), static_cast<ssize_t>(packet.size()));
  pollfd fd{udp_.get(), POLLIN, 0};
  EXPECT_EQ(poll(&fd, 1, 2000), 1);
  cancel();
  EXPECT_EQ(second.get().reason, SessionEnd::Reason::Cancelled);
}

}  // namespace
}  // namespace rtether::device
