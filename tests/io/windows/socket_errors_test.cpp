// What relay/ reads from host errors on Windows: a UDP port unreachable
// (WSAECONNRESET with SIO_UDP_CONNRESET on) queued as the Linux error queue
// entry, and ping through IP Helper behind a socket that acts as a Linux
// ping socket.
#include "io/socket_errors.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "io/datagram.hpp"
#include "io/windows/ping_worker.hpp"
#include "io/windows/winsock.hpp"
#include "loopback.hpp"

namespace rtether::io {
namespace {

using namespace std::chrono_literals;
using testing::loopback;

TEST(WinsockErrorQueue, AUdpResetIsQueuedAsConnectionRefused) {
  Fd server = bind_udp({loopback(), 0});
  auto client = connect_nonblocking(Transport::Udp, *local_endpoint(server.get()));
  ASSERT_TRUE(client);
  EXPECT_FALSE(read_error_queue(client->fd.get())) << "no queue before enable_error_queue";
  EXPECT_EQ(queued_udp_reset(client->fd.get(), winsock_error(WSAECONNRESET)),
            std::errc::connection_reset)
      << "a socket without the error queue keeps the reset";
  ASSERT_FALSE(enable_error_queue(client->fd.get()));
  EXPECT_FALSE(read_error_queue(client->fd.get()));
  // What a receive says after an ICMP port unreachable came back.
  EXPECT_EQ(queued_udp_reset(client->fd.get(), winsock_error(WSAECONNRESET)),
            std::errc::connection_refused);
  auto queued = read_error_queue(client->fd.get());
  ASSERT_TRUE(queued);
  EXPECT_EQ(queued->error, std::errc::connection_refused);
  EXPECT_FALSE(queued->from_icmp);
  EXPECT_FALSE(read_error_queue(client->fd.get())) << "read once";
}

TEST(WinsockErrorQueue, ClosingTheSocketDropsItsQueue) {
  Fd server = bind_udp({loopback(), 0});
  auto client = connect_nonblocking(Transport::Udp, *local_endpoint(server.get()));
  ASSERT_TRUE(client);
  const int fd = client->fd.get();
  ASSERT_FALSE(enable_error_queue(fd));
  queued_udp_reset(fd, winsock_error(WSAECONNRESET));
  client->fd.reset();
  EXPECT_FALSE(read_error_queue(fd));
}

TEST(WinsockSocketInfo, VersionFollowsTheFamilyAndPathMtuIsAValue) {
  Fd v4 = bind_udp({loopback(), 0});
  EXPECT_EQ(socket_version(v4.get()), wire::IpVersion::V4);
  wire::IpAddress v6_loopback;
  ASSERT_TRUE(wire::IpAddress::parse("::1", v6_loopback));
  Fd v6 = bind_udp({v6_loopback, 0});
  EXPECT_EQ(socket_version(v6.get()), wire::IpVersion::V6);
  auto connected = connect_nonblocking(Transport::Udp, *local_endpoint(v4.get()));
  ASSERT_TRUE(connected);
  const std::uint32_t mtu = path_mtu(connected->fd.get());
  EXPECT_TRUE(mtu == 0 || mtu >= 576) << mtu;
  EXPECT_FALSE(socket_version(-1));
}

// An echo request as relay/ writes it to a ping socket.
std::vector<std::uint8_t> echo_request(std::uint8_t type, std::uint16_t sequence,
                                       const char* payload) {
  std::vector<std::uint8_t> message(8 + std::strlen(payload));
  message[0] = type;
  message[6] = static_cast<std::uint8_t>(sequence >> 8);
  message[7] = static_cast<std::uint8_t>(sequence);
  std::memcpy(message.data() + 8, payload, std::strlen(payload));
  return message;
}

TEST(WinsockPing, AnEchoTo127001ComesBackAsAnEchoReply) {
  auto ping = open_ping_socket({loopback(), 0});
  ASSERT_TRUE(ping) << ping.error().message();
  ASSERT_TRUE(send_some(ping->get(), echo_request(8, 0x0102, "are you there")));
  std::uint8_t reply[128];
  Result<std::size_t> got = std::make_error_code(std::errc::operation_would_block);
  for (int round = 0; round < 400 && got.would_block(); ++round) {
    got = recv_some(ping->get(), reply);
    if (got.would_block()) std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_EQ(*got, 8u + 13u);
  EXPECT_EQ(reply[0], 0) << "an echo reply";
  EXPECT_EQ(reply[6], 0x01);
  EXPECT_EQ(reply[7], 0x02);
  EXPECT_EQ(std::memcmp(reply + 8, "are you there", 13), 0);
}

TEST(WinsockPing, TheWorkerEndsWhenTheSocketCloses) {
  const std::size_t before = running_ping_workers();
  {
    auto ping = open_ping_socket({loopback(), 0});
    ASSERT_TRUE(ping);
    EXPECT_EQ(running_ping_workers(), before + 1);
  }
  for (int round = 0; round < 100 && running_ping_workers() > before; ++round)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(running_ping_workers(), before);
}

TEST(WinsockPing, TheBroadcastAddressIsNotPermitted) {
  wire::IpAddress broadcast;
  ASSERT_TRUE(wire::IpAddress::parse("255.255.255.255", broadcast));
  EXPECT_EQ(open_ping_socket({broadcast, 0}).error(), std::errc::operation_not_permitted);
}

TEST(WinsockPing, AnythingButAnEchoRequestGetsNoAnswer) {
  auto ping = open_ping_socket({loopback(), 0});
  ASSERT_TRUE(ping);
  ASSERT_TRUE(send_some(ping->get(), echo_request(13, 1, "timestamp?")));
  std::this_thread::sleep_for(200ms);
  std::uint8_t reply[64];
  EXPECT_TRUE(recv_some(ping->get(), reply).would_block());
}

}  // namespace
}  // namespace rtether::io
