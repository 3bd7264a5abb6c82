// Socket error helpers follow the socket's own family: IPV6_RECVERR and
// IPV6_MTU on an IPv6 socket, IP_RECVERR and IP_MTU on an IPv4 one.
#include "io/socket_errors.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

namespace rtether::io {
namespace {

wire::IpAddress parse(const char* text) {
  wire::IpAddress address;
  EXPECT_TRUE(wire::IpAddress::parse(text, address));
  return address;
}

int option(int fd, int level, int name) {
  int value = -1;
  socklen_t length = sizeof value;
  EXPECT_EQ(::getsockopt(fd, level, name, &value, &length), 0);
  return value;
}

TEST(SocketErrors, FollowTheSocketsOwnFamily) {
  for (const char* text : {"127.0.0.1", "::1"}) {
    // Connected to the discard port: connect() of a datagram socket only routes.
    auto connection = connect_nonblocking(Transport::Udp, {parse(text), 9});
    ASSERT_TRUE(connection) << text;
    ASSERT_FALSE(connection->in_progress) << text;
    const Fd& fd = connection->fd;
    const bool v6 = parse(text).version == wire::IpVersion::V6;
    ASSERT_EQ(socket_version(fd.get()), v6 ? wire::IpVersion::V6 : wire::IpVersion::V4);
    ASSERT_FALSE(enable_error_queue(fd.get()));
    if (v6) {
      EXPECT_EQ(option(fd.get(), IPPROTO_IPV6, IPV6_RECVERR), 1);
      EXPECT_EQ(path_mtu(fd.get()), static_cast<std::uint32_t>(option(fd.get(), IPPROTO_IPV6, IPV6_MTU)));
    } else {
      EXPECT_EQ(option(fd.get(), IPPROTO_IP, IP_RECVERR), 1);
      EXPECT_EQ(path_mtu(fd.get()), static_cast<std::uint32_t>(option(fd.get(), IPPROTO_IP, IP_MTU)));
    }
    EXPECT_GE(path_mtu(fd.get()), 1280u) << text;  // loopback
  }
}

TEST(SocketErrors, NonIpSocketsAreRefused) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM, 0, pair), 0);
  Fd a{pair[0]};
  Fd b{pair[1]};
  EXPECT_FALSE(socket_version(a.get()));
  EXPECT_EQ(enable_error_queue(a.get()), std::errc::address_family_not_supported);
  EXPECT_EQ(path_mtu(a.get()), 0u);
}

}  // namespace
}  // namespace rtether::io
