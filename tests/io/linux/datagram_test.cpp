// UDP forward sockets: a peer's datagrams reach its connected socket, other
// peers' the listener; and no process of another user can share the port.
#include "io/datagram.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

namespace rtether::io {
namespace {

wire::IpAddress loopback() {
  wire::IpAddress address;
  EXPECT_TRUE(wire::IpAddress::parse("127.0.0.1", address));
  return address;
}

std::uint16_t local_port(int fd) {
  auto bound = local_endpoint(fd);
  EXPECT_TRUE(bound);
  return bound->port;
}

// Reads one datagram, waiting up to 2 s; "" when none came.
std::string receive(int fd) {
  for (int i = 0; i < 200; ++i) {
    char buffer[64];
    long got = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (got >= 0) return std::string(buffer, static_cast<std::size_t>(got));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return {};
}

void send_to(int fd, std::uint16_t port, const std::string& text) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::sendto(fd, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
            static_cast<long>(text.size()));
}

TEST(ForwardDatagramSockets, PeerSocketGetsItsPeerAndTheListenerTheRest) {
  Fd listener = bind_udp({loopback(), 0});
  const std::uint16_t port = local_port(listener.get());
  Fd peer_a = bind_udp({loopback(), 0});
  Fd peer_b = bind_udp({loopback(), 0});
  auto opened = open_udp_peer({loopback(), port}, {loopback(), local_port(peer_a.get())});
  ASSERT_TRUE(opened);
  const Fd& connected = *opened;
  for (int i = 0; i < 3; ++i) {
    send_to(peer_a.get(), port, "from a");
    EXPECT_EQ(receive(connected.get()), "from a");
    send_to(peer_b.get(), port, "from b");
    EXPECT_EQ(receive(listener.get()), "from b");
  }
}

// Another user may not bind the forward's port, with SO_REUSEADDR or
// SO_REUSEPORT (root switches users in a child; tests run as root).
TEST(ForwardDatagramSockets, AnotherUserCannotShareThePort) {
  ASSERT_EQ(::geteuid(), 0u) << "needs root to act as another user";
  Fd listener = bind_udp({loopback(), 0});
  const std::uint16_t port = local_port(listener.get());
  for (int option : {SO_REUSEADDR, SO_REUSEPORT}) {
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
      int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
      int on = 1;
      ::setsockopt(fd, SOL_SOCKET, option, &on, sizeof on);
      sockaddr_in at{};
      at.sin_family = AF_INET;
      at.sin_port = htons(port);
      at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&at), sizeof at) == 0;
      ::_exit(bound ? 1 : (errno == EADDRINUSE ? 0 : 3));
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "option " << option;
  }
}

}  // namespace
}  // namespace rtether::io
