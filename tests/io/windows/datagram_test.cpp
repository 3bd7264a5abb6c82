// UDP sockets on Winsock: a cut datagram says it was cut, the forward's
// sockets share the listener's port, and what that sharing delivers where.
#include "io/datagram.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "loopback.hpp"

namespace rtether::io {
namespace {

using namespace std::chrono_literals;
using testing::loopback;
using testing::text;

// The next datagram on fd within a second.
Result<Datagram> receive_waiting(int fd, wire::MutableBytes into) {
  Result<Datagram> got = std::make_error_code(std::errc::operation_would_block);
  for (int round = 0; round < 200; ++round) {
    got = recv_from(fd, into);
    if (!got.would_block()) return got;
    std::this_thread::sleep_for(5ms);
  }
  return got;
}

TEST(WinsockDatagrams, ACutDatagramReportsMoreThanTheBuffer) {
  Fd receiver = bind_udp({loopback(), 0});
  auto sender = connect_nonblocking(Transport::Udp, *local_endpoint(receiver.get()));
  ASSERT_TRUE(sender);
  ASSERT_TRUE(send_some(sender->fd.get(), text("0123456789", 10)));
  std::uint8_t small[4];
  Result<std::size_t> got = std::size_t{0};
  for (int round = 0; round < 200; ++round) {
    got = recv_datagram(receiver.get(), small);
    if (!got.would_block()) break;
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(got);
  EXPECT_GT(*got, sizeof small);
  EXPECT_TRUE(recv_datagram(receiver.get(), small).would_block()) << "the rest was dropped";
}

TEST(WinsockDatagrams, RecvFromNamesTheSender) {
  Fd receiver = bind_udp({loopback(), 0});
  auto sender = connect_nonblocking(Transport::Udp, *local_endpoint(receiver.get()));
  ASSERT_TRUE(sender);
  ASSERT_TRUE(send_some(sender->fd.get(), text("hi", 2)));
  std::uint8_t buffer[16];
  auto got = receive_waiting(receiver.get(), buffer);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size, 2u);
  EXPECT_EQ(got->from.port, local_endpoint(sender->fd.get())->port);
}

TEST(WinsockDatagrams, APeerSocketGetsItsPeerAndTheListenerTheRest) {
  Fd listener = bind_udp({loopback(), 0});
  const Endpoint port = *local_endpoint(listener.get());
  auto peer = connect_nonblocking(Transport::Udp, port);
  auto other = connect_nonblocking(Transport::Udp, port);
  ASSERT_TRUE(peer && other);
  auto forwarded = open_udp_peer(port, *local_endpoint(peer->fd.get()));
  ASSERT_TRUE(forwarded) << forwarded.error().message();
  ASSERT_TRUE(send_some(peer->fd.get(), text("mine", 4)));
  ASSERT_TRUE(send_some(other->fd.get(), text("else", 4)));
  std::uint8_t buffer[16];
  auto to_peer_socket = receive_waiting(forwarded->get(), buffer);
  ASSERT_TRUE(to_peer_socket);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buffer), to_peer_socket->size), "mine");
  auto to_listener = receive_waiting(listener.get(), buffer);
  ASSERT_TRUE(to_listener);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buffer), to_listener->size), "else");
  // And the peer socket answers from the forward's port.
  ASSERT_TRUE(send_some(forwarded->get(), text("back", 4)));
  auto back = receive_waiting(peer->fd.get(), buffer);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->from.port, port.port);
}

}  // namespace
}  // namespace rtether::io
