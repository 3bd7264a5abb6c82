// SCM_RIGHTS helpers and SO_PEERCRED over a real socketpair.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "io/socket.hpp"

namespace rtether::io {
namespace {

struct Pair {
  Fd a, b;
  Pair() {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    a = Fd(fds[0]);
    b = Fd(fds[1]);
  }
};

wire::Bytes bytes(const std::string& text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

TEST(SocketFdPassing, DescriptorTravelsWithTheBytes) {
  Pair pair;
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  Fd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  auto sent = send_with_fd(pair.a.get(), bytes("ok\n"), write_end.get());
  ASSERT_TRUE(sent);
  ASSERT_EQ(*sent, 3u);
  std::uint8_t buffer[16];
  std::vector<Fd> fds;
  auto got = receive_with_fds(pair.b.get(), {buffer, sizeof buffer}, fds);
  ASSERT_TRUE(got);
  ASSERT_EQ(*got, 3u);
  ASSERT_EQ(fds.size(), 1u);
  EXPECT_NE(fds[0].get(), write_end.get());
  EXPECT_EQ(fcntl(fds[0].get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  ASSERT_EQ(write(fds[0].get(), "x", 1), 1);  // the same pipe, another number
  char byte = 0;
  ASSERT_EQ(read(read_end.get(), &byte, 1), 1);
  EXPECT_EQ(byte, 'x');
}

TEST(SocketFdPassing, PlainBytesBringNoDescriptorAndEmptyReadsSayWouldBlock) {
  Pair pair;
  std::uint8_t buffer[16];
  std::vector<Fd> fds;
  EXPECT_TRUE(receive_with_fds(pair.b.get(), {buffer, sizeof buffer}, fds).would_block());
  auto sent = send_with_fd(pair.a.get(), bytes("pid\n"), -1);
  ASSERT_TRUE(sent);
  ASSERT_EQ(*sent, 4u);
  auto got = receive_with_fds(pair.b.get(), {buffer, sizeof buffer}, fds);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, 4u);
  EXPECT_TRUE(fds.empty());
  pair.a.reset();
  auto end = receive_with_fds(pair.b.get(), {buffer, sizeof buffer}, fds);
  ASSERT_TRUE(end);
  EXPECT_EQ(*end, 0u);
}

TEST(SocketFdPassing, PeerUidIsOurs) {
  Pair pair;
  EXPECT_EQ(peer_uid(pair.a.get()), static_cast<long>(geteuid()));
  EXPECT_EQ(peer_uid(-1), -1);
}

}  // namespace
}  // namespace rtether::io
