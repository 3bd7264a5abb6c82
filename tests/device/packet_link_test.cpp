// Tests for PacketLink, the relay's link to a packet descriptor (direct
// mode's tun): one read is one packet, budgets and ends, packets written
// one by one from the output queue, refused packets counted; and a whole
// ClientSession over it. A SOCK_SEQPACKET socketpair keeps packet
// boundaries and reports the peer's end as a tun cannot, so most run
// without root; the refused-packet case uses a real tun (root).
#include "device/packet_link.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "device/link_configurator.hpp"
#include "device/tun_device.hpp"
#include "device/netns.hpp"
#include "io/event_loop.hpp"
#include "relay/client_session.hpp"
#include "relay/config.hpp"
#include "scoped_netns.hpp"
#include "wire/ip_packet.hpp"
#include "wire/packet_builder.hpp"
#include "wire/transport.hpp"

namespace rtether::device {
namespace {

using Status = relay::LinkRead::Status;

wire::IpAddress address(const char* text) {
  wire::IpAddress parsed;
  EXPECT_TRUE(wire::IpAddress::parse(text, parsed)) << text;
  return parsed;
}

// A UDP datagram from the device (10.0.0.2) with `size` payload bytes.
std::vector<std::uint8_t> udp_packet(std::uint16_t destination_port, std::size_t size,
                                     const char* source = "10.0.0.2",
                                     const char* destination = "10.0.2.2") {
  wire::UdpDatagramHeader header;
  header.source = address(source);
  header.destination = address(destination);
  header.source_port = 40000;
  header.destination_port = destination_port;
  std::vector<std::uint8_t> payload(size);
  for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<std::uint8_t>(i * 7 + size);
  std::vector<std::uint8_t> packet(wire::udp_header_size(header.source.version) + size);
  packet.resize(wire::build_udp(packet, header, payload));
  return packet;
}

// Keeps what the link hands over; stops after `stop_after` packets if set.
class RecordingSink : public relay::PacketSink {
 public:
  bool on_packet(wire::Bytes packet) override {
    packets.emplace_back(packet.begin(), packet.end());
    return stop_after == 0 || packets.size() < stop_after;
  }
  std::vector<std::vector<std::uint8_t>> packets;
  std::size_t stop_after = 0;
};

class PacketLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int ends[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends), 0);
    link_ = std::make_unique<PacketLink>(io::Fd(ends[0]));
    device_ = io::Fd(ends[1]);
  }
  void device_writes(const std::vector<std::uint8_t>& packet) {
    ASSERT_EQ(write(device_.get(), packet.data(), packet.size()),
              static_cast<ssize_t>(packet.size()));
  }
  // The next packet the link wrote, or empty when none is waiting.
  std::vector<std::uint8_t> device_reads() {
    std::vector<std::uint8_t> packet(wire::kMaxPacket);
    ssize_t got = recv(device_.get(), packet.data(), packet.size(), MSG_DONTWAIT);
    packet.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
    return packet;
  }

  std::unique_ptr<PacketLink> link_;
  io::Fd device_;
  RecordingSink sink_;
};

TEST_F(PacketLinkTest, IsAPacketLinkWithNoHandshake) { EXPECT_FALSE(link_->is_stream()); }

TEST_F(PacketLinkTest, ReadsEachPacketWholeUntilDrained) {
  const auto small = udp_packet(53, 1);
  const auto large = udp_packet(9, wire::kMaxPacket - 28);  // the largest IPv4 packet
  const auto middle = udp_packet(7, 1400);
  for (const auto* packet : {&small, &large, &middle}) device_writes(*packet);
  const relay::LinkRead result = link_->read(sink_, 64, false);
  EXPECT_EQ(result.status, Status::Drained);
  ASSERT_EQ(sink_.packets.size(), 3u);
  EXPECT_EQ(sink_.packets[0], small);
  EXPECT_EQ(sink_.packets[1], large);
  EXPECT_EQ(sink_.packets[2], middle);
}

TEST_F(PacketLinkTest, StopsAtTheBudgetAndGoesOnFromThereNextTime) {
  for (std::uint16_t port = 1; port <= 5; ++port) device_writes(udp_packet(port, 10));
  EXPECT_EQ(link_->read(sink_, 2, false).status, Status::BudgetUsed);
  EXPECT_EQ(sink_.packets.size(), 2u);
  EXPECT_EQ(link_->read(sink_, 64, false).status, Status::Drained);
  ASSERT_EQ(sink_.packets.size(), 5u);
  EXPECT_EQ(sink_.packets[4], udp_packet(5, 10));
}

TEST_F(PacketLinkTest, StopsWhenTheSinkSaysSo) {
  for (std::uint16_t port = 1; port <= 3; ++port) device_writes(udp_packet(port, 10));
  sink_.stop_after = 1;
  EXPECT_EQ(link_->read(sink_, 64, false).status, Status::Stopped);
  EXPECT_EQ(sink_.packets.size(), 1u);
}

TEST_F(PacketLinkTest, EndsWhenTheDeviceCloses) {
  device_writes(udp_packet(1, 10));
  device_.reset();
  const relay::LinkRead result = link_->read(sink_, 64, false);
  EXPECT_EQ(sink_.packets.size(), 1u);
  EXPECT_EQ(result.status, Status::Ended);
  EXPECT_NE(result.reason, nullptr);
}

TEST_F(PacketLinkTest, WritesEveryQueuedPacketOnItsOwn) {
  std::vector<std::uint8_t> queued;
  // An IPv6 one between IPv4 ones: each header gives its own length.
  const std::vector<std::vector<std::uint8_t>> sent = {
      udp_packet(1, 0), udp_packet(3, 20, "fd00::2", "fd00::2:2"), udp_packet(2, 3000)};
  for (const auto& packet : sent) queued.insert(queued.end(), packet.begin(), packet.end());
  const relay::LinkSend result = link_->send(queued);
  EXPECT_EQ(result.consumed, queued.size());
  EXPECT_EQ(result.refused, 0u);
  EXPECT_FALSE(result.blocked);
  EXPECT_FALSE(result.error);
  for (const auto& packet : sent) EXPECT_EQ(device_reads(), packet);
  EXPECT_TRUE(device_reads().empty());
}

TEST_F(PacketLinkTest, AFullDeviceBlocksTheRestForTheNextWritableEdge) {
  // Nobody reads the device end: its socket buffer fills up.
  const auto packet = udp_packet(1, 60000);
  std::vector<std::uint8_t> queued;
  for (int i = 0; i < 64; ++i) queued.insert(queued.end(), packet.begin(), packet.end());
  const relay::LinkSend result = link_->send(queued);
  EXPECT_TRUE(result.blocked);
  EXPECT_FALSE(result.error);
  EXPECT_LT(result.consumed, queued.size());
  EXPECT_EQ(result.consumed % packet.size(), 0u);  // never part of a packet
}

TEST_F(PacketLinkTest, AQueueThatIsNoPacketFailsTheLink) {
  const std::vector<std::uint8_t> garbage(40, 0xff);  // version nibble 15
  const relay::LinkSend result = link_->send(garbage);
  EXPECT_TRUE(result.error);
  EXPECT_EQ(result.consumed, 0u);
  EXPECT_TRUE(device_reads().empty());
}

TEST(PacketLinkOnATun, CountsPacketsTheKernelRefusesAndGoesOn) {
  // A tun whose link is down refuses every packet written to it (EIO).
  ScopedNetns netns("packet-link");
  std::unique_ptr<PacketLink> link;
  {
    NetnsGuard inside(netns.name());
    link = std::make_unique<PacketLink>(TunDevice::open("rtether-pl0").release_fd());
  }
  std::vector<std::uint8_t> queued = udp_packet(1, 100);
  const auto second = udp_packet(2, 100);
  queued.insert(queued.end(), second.begin(), second.end());
  const relay::LinkSend result = link->send(queued);
  EXPECT_EQ(result.consumed, queued.size());
  EXPECT_EQ(result.refused, 2u);
  EXPECT_FALSE(result.error);
  RecordingSink sink;
  EXPECT_EQ(link->read(sink, 64, false).status, Status::Drained);
  EXPECT_TRUE(sink.packets.empty());
}

// A tun with a virtio-net header (direct mode's): the link says it
// completes checksums; a UDP packet with only the pseudo header's sum (as
// the relay then builds it) and one with a whole checksum both reach a
// socket in the namespace, and one with a wrong whole checksum does not:
// the link marks only partial sums NEEDS_CSUM, so the kernel still checks
// the rest. A datagram from that socket reaches the link as a bare IP
// packet.
TEST(PacketLinkOnATun, WithAVnetHeaderTakesPartialAndWholeChecksums) {
  ScopedNetns netns("packet-link-vnet");
  std::unique_ptr<PacketLink> link;
  io::Fd socket;
  {
    NetnsGuard inside(netns.name());
    TunDevice tun = TunDevice::open("rtether-pl1", true);
    LinkConfigurator links;
    links.set_up(tun.index());
    links.add_address(tun.index(), address("10.0.0.2"), 32);
    links.add_route(tun.index(), address("10.0.2.0"), 24, false);
    link = std::make_unique<PacketLink>(tun.release_fd());
    socket = io::Fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in bound{};
    bound.sin_family = AF_INET;
    bound.sin_port = htons(40001);
    bound.sin_addr.s_addr = inet_addr("10.0.0.2");
    ASSERT_EQ(bind(socket.get(), reinterpret_cast<sockaddr*>(&bound), sizeof bound), 0);
  }
  EXPECT_TRUE(link->completes_checksums());

  wire::UdpDatagramHeader header;
  header.source = address("10.0.2.2");
  header.destination = address("10.0.0.2");
  header.source_port = 53;
  header.destination_port = 40001;
  timeval wait{2, 0};
  ASSERT_EQ(setsockopt(socket.get(), SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait), 0);
  for (const auto mode : {wire::ChecksumMode::PseudoHeaderOnly, wire::ChecksumMode::Full}) {
    const std::string payload =
        mode == wire::ChecksumMode::Full ? "a whole checksum" : "a partial checksum";
    std::vector<std::uint8_t> packet(100);
    packet.resize(wire::build_udp(
        packet, header,
        wire::Bytes{reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()}, mode));
    const relay::LinkSend sent = link->send(packet);
    EXPECT_EQ(sent.consumed, packet.size());
    EXPECT_EQ(sent.refused, 0u);
    char received[100];
    const ssize_t got = recv(socket.get(), received, sizeof received, 0);
    ASSERT_EQ(got, static_cast<ssize_t>(payload.size())) << payload << ": the socket got nothing";
    EXPECT_EQ(std::string(received, static_cast<std::size_t>(got)), payload);
  }
  {
    const std::string payload = "a wrong checksum";
    std::vector<std::uint8_t> packet(100);
    packet.resize(wire::build_udp(
        packet, header,
        wire::Bytes{reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()},
        wire::ChecksumMode::Full));
    packet[wire::kIpv4MinHeader + wire::udp_field::kChecksum.offset] ^= 0x5a;
    EXPECT_EQ(link->send(packet).consumed, packet.size());
    timeval brief{0, 300000};
    ASSERT_EQ(setsockopt(socket.get(), SOL_SOCKET, SO_RCVTIMEO, &brief, sizeof brief), 0);
    char received[100];
    EXPECT_LT(recv(socket.get(), received, sizeof received, 0), 0)
        << "a wrong whole checksum was taken: the link marked it NEEDS_CSUM";
  }

  sockaddr_in peer{};
  peer.sin_family = AF_INET;
  peer.sin_port = htons(9);
  peer.sin_addr.s_addr = inet_addr("10.0.2.2");
  const std::string question = "from the namespace";
  ASSERT_EQ(sendto(socket.get(), question.data(), question.size(), 0,
                   reinterpret_cast<const sockaddr*>(&peer), sizeof peer),
            static_cast<ssize_t>(question.size()));
  // Every packet read must parse whole (the header taken off); the
  // namespace's own IPv6 chatter may come before the datagram.
  RecordingSink sink;
  std::optional<std::string> asked;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!asked && std::chrono::steady_clock::now() < deadline) {
    link->read(sink, 64, false);
    for (const auto& read : sink.packets) {
      auto parsed = wire::parse_ip(read);
      ASSERT_TRUE(parsed.packet) << "not an IP packet: the header was not taken off";
      EXPECT_EQ(parsed.packet->packet.size(), read.size());
      if (parsed.packet->protocol != wire::ip_protocol::kUdp) continue;
      auto udp = wire::UdpView::parse(parsed.packet->payload);
      ASSERT_TRUE(udp);
      EXPECT_EQ(udp->destination_port(), 9);
      asked.emplace(udp->payload().begin(), udp->payload().end());
    }
    sink.packets.clear();
  }
  EXPECT_EQ(asked, question);
}

// The whole engine over a packet link: a device datagram to the host alias
// reaches a host UDP socket on 127.0.0.1, and the reply comes back as one
// packet, with no greeting before it.
TEST(ClientSessionOverAPacketLink, RelaysAUdpExchangeWithNoGreeting) {
  int ends[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends), 0);
  io::Fd device(ends[1]);
  io::Fd host(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in bound{};
  bound.sin_family = AF_INET;
  bound.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof bound;
  ASSERT_EQ(bind(host.get(), reinterpret_cast<sockaddr*>(&bound), sizeof bound), 0);
  ASSERT_EQ(getsockname(host.get(), reinterpret_cast<sockaddr*>(&bound), &length), 0);
  const std::uint16_t port = ntohs(bound.sin_port);

  io::EventLoop loop;
  relay::RelayConfig config;
  relay::ClientSession session(loop, std::make_unique<PacketLink>(io::Fd(ends[0])), 0, config,
                               nullptr);
  session.start();
  const auto request = udp_packet(port, 100);
  ASSERT_EQ(write(device.get(), request.data(), request.size()),
            static_cast<ssize_t>(request.size()));

  std::vector<std::uint8_t> received(2000);
  sockaddr_in peer{};
  socklen_t peer_length = sizeof peer;
  ssize_t got = -1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (got < 0 && std::chrono::steady_clock::now() < deadline) {
    loop.run_once(std::chrono::milliseconds(5));
    got = recvfrom(host.get(), received.data(), received.size(), MSG_DONTWAIT,
                   reinterpret_cast<sockaddr*>(&peer), &peer_length);
  }
  ASSERT_EQ(got, 100);
  const std::string reply = "reply from the host";
  ASSERT_EQ(sendto(host.get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&peer),
                   peer_length),
            static_cast<ssize_t>(reply.size()));

  std::vector<std::uint8_t> packet(wire::kMaxPacket);
  ssize_t packet_length = -1;
  while (packet_length < 0 && std::chrono::steady_clock::now() < deadline) {
    loop.run_once(std::chrono::milliseconds(5));
    packet_length = recv(device.get(), packet.data(), packet.size(), MSG_DONTWAIT);
  }
  ASSERT_GT(packet_length, 0) << "no packet reached the device";
  auto parsed = wire::parse_ip(wire::Bytes{packet.data(), static_cast<std::size_t>(packet_length)});
  ASSERT_TRUE(parsed.packet);
  EXPECT_EQ(parsed.packet->packet.size(), static_cast<std::size_t>(packet_length));
  EXPECT_EQ(parsed.packet->destination, address("10.0.0.2"));
  EXPECT_EQ(parsed.packet->source, address("10.0.2.2"));
  auto udp = wire::UdpView::parse(parsed.packet->payload);
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->destination_port(), 40000);
  EXPECT_EQ(std::string(udp->payload().begin(), udp->payload().end()), reply);
  EXPECT_EQ(session.counters().packets_from_device, 1u);
  EXPECT_EQ(session.counters().packets_to_device, 1u);
}

}  // namespace
}  // namespace rtether::device
