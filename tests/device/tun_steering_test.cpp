// Tests for the multi-queue tun's steering program (tun_steering.hpp): the
// loaded program, run by the kernel on packets (BPF_PROG_TEST_RUN), gives
// the value relay::QueueSlot computes for each flow's key, for every kind
// of packet it reads; and on a real two-queue tun in a namespace, each
// packet the namespace sends arrives on the queue QueueSlot says. Root.
#include "device/tun_steering.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "device/netns.hpp"
#include "device/tun_builder.hpp"
#include "relay/flow_key.hpp"
#include "scoped_netns.hpp"
#include "wire/ip_packet.hpp"
#include "wire/packet_builder.hpp"
#include "wire/transport.hpp"

namespace rtether::device {
namespace {

wire::IpAddress address(const char* text) {
  wire::IpAddress parsed;
  EXPECT_TRUE(wire::IpAddress::parse(text, parsed)) << text;
  return parsed;
}

using Packet = std::vector<std::uint8_t>;

Packet udp(const char* source, std::uint16_t source_port, const char* destination,
           std::uint16_t destination_port) {
  wire::UdpDatagramHeader header;
  header.source = address(source);
  header.destination = address(destination);
  header.source_port = source_port;
  header.destination_port = destination_port;
  const std::uint8_t payload[5] = {1, 2, 3, 4, 5};
  Packet packet(100);
  packet.resize(wire::build_udp(packet, header, payload));
  return packet;
}

Packet tcp(const char* source, std::uint16_t source_port, const char* destination,
           std::uint16_t destination_port) {
  wire::TcpSegmentHeader header;
  header.source = address(source);
  header.destination = address(destination);
  header.source_port = source_port;
  header.destination_port = destination_port;
  header.flags = wire::tcp_flag::kSyn;
  header.mss = 1460;
  Packet packet(120);
  packet.resize(wire::build_tcp(packet, header, {}));
  return packet;
}

Packet icmp(const char* source, const char* destination, std::uint8_t type, std::uint32_t rest,
            const Packet& payload = {}) {
  wire::IcmpMessageHeader header;
  header.source = address(source);
  header.destination = address(destination);
  header.type = type;
  header.rest = rest;
  Packet packet(payload.size() + 100);
  packet.resize(wire::build_icmp(packet, header, payload));
  return packet;
}

relay::FlowKey key(const char* source, std::uint16_t source_port, const char* destination,
                   std::uint16_t destination_port, std::uint8_t protocol) {
  return relay::FlowKey{address(source), address(destination), source_port, destination_port,
                        protocol};
}

class TunSteeringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = load_tun_steering();
    ASSERT_TRUE(loaded) << "the kernel refused the steering program: "
                        << loaded.error().message();
    program_ = std::move(*loaded);
  }
  std::uint32_t run(const Packet& packet) {
    auto value = run_tun_steering(program_.get(), wire::Bytes{packet.data(), packet.size()});
    EXPECT_TRUE(value) << value.error().message();
    return value ? *value : 0xffffffff;
  }
  io::Fd program_;
};

TEST_F(TunSteeringTest, TcpAndUdpOfBothVersionsGiveTheRelaysValueForTheirKey) {
  const std::uint16_t ports[][2] = {{40000, 80}, {1, 65535}, {53, 53}, {50123, 49152}, {7, 0}};
  for (const auto& [source_port, destination_port] : ports) {
    EXPECT_EQ(run(udp("10.0.0.2", source_port, "192.0.2.9", destination_port)),
              relay::QueueSlot::steering_value(
                  key("10.0.0.2", source_port, "192.0.2.9", destination_port, 17)));
    EXPECT_EQ(run(tcp("10.0.0.2", source_port, "198.51.100.1", destination_port)),
              relay::QueueSlot::steering_value(
                  key("10.0.0.2", source_port, "198.51.100.1", destination_port, 6)));
    EXPECT_EQ(run(udp("fd00::2", source_port, "2001:db8::1", destination_port)),
              relay::QueueSlot::steering_value(
                  key("fd00::2", source_port, "2001:db8::1", destination_port, 17)));
    EXPECT_EQ(run(tcp("fd00::2", source_port, "2001:db8::1", destination_port)),
              relay::QueueSlot::steering_value(
                  key("fd00::2", source_port, "2001:db8::1", destination_port, 6)));
  }
}

TEST_F(TunSteeringTest, AnEchoGoesByItsIdentifierAsTheRelayKeysIt) {
  // The relay keys an echo flow by its identifier as source_port (port 0
  // on the other side).
  const std::uint32_t id = 0xbeef;
  const auto expected =
      relay::QueueSlot::steering_value(key("10.0.0.2", id, "192.0.2.9", 0, 1));
  EXPECT_EQ(run(icmp("10.0.0.2", "192.0.2.9", 8, id << 16 | 7)), expected);
  EXPECT_EQ(run(icmp("10.0.0.2", "192.0.2.9", 0, id << 16 | 7)), expected);
  const auto expected_v6 =
      relay::QueueSlot::steering_value(key("fd00::2", id, "2001:db8::1", 0, 58));
  EXPECT_EQ(run(icmp("fd00::2", "2001:db8::1", 128, id << 16 | 1)), expected_v6);
  EXPECT_EQ(run(icmp("fd00::2", "2001:db8::1", 129, id << 16 | 1)), expected_v6);
}

TEST_F(TunSteeringTest, AnIcmpErrorGoesWhereTheFlowItQuotesGoes) {
  // The device's kernel answers a datagram the relay sent it (10.0.2.2:P
  // -> 10.0.0.2:D) with port unreachable: the flow's queue, either way.
  Packet quoted = udp("10.0.2.2", 50001, "10.0.0.2", 9999);
  const auto expected =
      relay::QueueSlot::steering_value(key("10.0.0.2", 9999, "10.0.2.2", 50001, 17));
  EXPECT_EQ(run(icmp("10.0.0.2", "10.0.2.2", 3, 0, quoted)), expected);
  EXPECT_EQ(run(icmp("10.0.0.2", "10.0.2.2", 11, 0, quoted)), expected);
  Packet quoted_tcp = tcp("2001:db8::1", 443, "fd00::2", 40404);
  const auto expected_tcp =
      relay::QueueSlot::steering_value(key("fd00::2", 40404, "2001:db8::1", 443, 6));
  EXPECT_EQ(run(icmp("fd00::2", "2001:db8::1", 1, 0, quoted_tcp)), expected_tcp);
  EXPECT_EQ(run(icmp("fd00::2", "2001:db8::1", 4, 0, quoted_tcp)), expected_tcp);
  // Other ICMP messages, and errors quoting what has no ports: queue 0.
  EXPECT_EQ(run(icmp("10.0.0.2", "10.0.2.2", 13, 0x12345678)), 0u);  // timestamp
  EXPECT_EQ(run(icmp("fd00::2", "2001:db8::1", 135, 0)), 0u);        // neighbour solicitation
  EXPECT_EQ(run(icmp("10.0.0.2", "10.0.2.2", 3, 0,
                     icmp("10.0.2.2", "10.0.0.2", 0, 0x00010001))),
            0u);
}

TEST_F(TunSteeringTest, FragmentsOtherProtocolsAndShortPacketsGoToQueueZero) {
  Packet fragment = udp("10.0.0.2", 40000, "192.0.2.9", 80);
  fragment[6] = 0x20;  // more fragments, offset 0
  EXPECT_EQ(run(fragment), 0u);
  Packet later = udp("10.0.0.2", 40000, "192.0.2.9", 80);
  later[7] = 0x10;  // offset 16 * 8
  EXPECT_EQ(run(later), 0u);
  Packet gre = udp("10.0.0.2", 40000, "192.0.2.9", 80);
  gre[9] = 47;
  EXPECT_EQ(run(gre), 0u);
  Packet hop_by_hop = udp("fd00::2", 40000, "2001:db8::1", 80);
  hop_by_hop[6] = 0;
  EXPECT_EQ(run(hop_by_hop), 0u);
  Packet cut = udp("10.0.0.2", 40000, "192.0.2.9", 80);
  cut.resize(21);  // the ports are past the end
  EXPECT_EQ(run(cut), 0u);
  Packet not_ip(40, 0x55);
  EXPECT_EQ(run(not_ip), 0u);
}

// A UDP datagram from inside the namespace, from `source_port` to
// 10.0.2.2:`destination_port` (routed into the tun).
void send_from(std::uint16_t source_port, std::uint16_t destination_port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_port = htons(source_port);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local), 0) << source_port;
  sockaddr_in peer{};
  peer.sin_family = AF_INET;
  peer.sin_port = htons(destination_port);
  inet_pton(AF_INET, "10.0.2.2", &peer.sin_addr);
  const char byte = 'x';
  EXPECT_EQ(sendto(fd, &byte, 1, 0, reinterpret_cast<sockaddr*>(&peer), sizeof peer), 1);
  close(fd);
}

TEST(TunSteeringOnATun, EachPacketArrivesOnTheQueueTheRelayExpects) {
  ScopedNetns netns("steering");
  LinuxTunBuilder builder("rtst0", netns.name());
  builder.set_queues(2);
  builder.add_address(wire::IpPrefix{address("10.0.0.2"), 32});
  builder.add_route(wire::IpPrefix{wire::IpAddress{wire::IpVersion::V4, {}}, 0});
  builder.establish();
  io::Fd first = builder.release_tun();
  std::vector<io::Fd> others = builder.release_other_queues();
  ASSERT_EQ(others.size(), 1u);
  auto program = load_tun_steering();
  ASSERT_TRUE(program) << program.error().message();
  ASSERT_FALSE(attach_tun_steering(first.get(), program->get()));
  const int queues[2] = {first.get(), others[0].get()};

  NetnsGuard inside(netns.name());
  int on_queue[2] = {0, 0};
  // Even source ports to one destination port, as Linux's connect() picks
  // them: still both queues.
  for (std::uint16_t source_port = 40000; source_port < 40080; source_port += 2) {
    const std::uint16_t destination_port = 5000;
    send_from(source_port, destination_port);
    const auto flow = key("10.0.0.2", source_port, "10.0.2.2", destination_port, 17);
    pollfd ready[2] = {{queues[0], POLLIN, 0}, {queues[1], POLLIN, 0}};
    ASSERT_EQ(poll(ready, 2, 2000), 1) << "one queue, and only one, has the datagram";
    const int got = (ready[1].revents & POLLIN) ? 1 : 0;
    std::uint8_t packet[2048];
    ASSERT_GT(read(queues[got], packet, sizeof packet), 28);
    EXPECT_TRUE((relay::QueueSlot{static_cast<std::uint16_t>(got), 2}.owns(flow)))
        << "port " << source_port << " -> " << destination_port << " came on queue " << got;
    ++on_queue[got];
  }
  // Both queues had their share.
  EXPECT_GT(on_queue[0], 5);
  EXPECT_GT(on_queue[1], 5);
}

}  // namespace
}  // namespace rtether::device
