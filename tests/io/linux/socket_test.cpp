// Socket helpers: addresses built and read in one place, the accept loop's
// budget, socket tuning, and errors as std::error_code values.
#include "io/socket.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

#include "io/linux/sockaddr.hpp"

namespace rtether::io {
namespace {

wire::IpAddress parse(const char* text) {
  wire::IpAddress address;
  EXPECT_TRUE(wire::IpAddress::parse(text, address));
  return address;
}

TEST(SocketAddress, EndpointsSurviveTheRoundTripInBothFamilies) {
  for (const char* text : {"192.0.2.7", "2001:db8::7"}) {
    Endpoint endpoint{parse(text), 4242};
    sockaddr_storage storage;
    const socklen_t length = to_sockaddr(endpoint, storage);
    EXPECT_EQ(length, endpoint.address.version == wire::IpVersion::V4 ? sizeof(sockaddr_in)
                                                                      : sizeof(sockaddr_in6));
    auto back = from_sockaddr(storage);
    ASSERT_TRUE(back) << text;
    EXPECT_EQ(back->address, endpoint.address);
    EXPECT_EQ(back->port, 4242);
  }
}

TEST(SocketAddress, UnixPathsCountAnAbstractNameExactly) {
  sockaddr_un address;
  auto abstract = to_sockaddr_un("@relay", address);
  ASSERT_TRUE(abstract);
  EXPECT_EQ(*abstract, offsetof(sockaddr_un, sun_path) + 6);
  EXPECT_EQ(address.sun_path[0], '\0');
  auto file = to_sockaddr_un("/tmp/relay", address);
  ASSERT_TRUE(file);
  EXPECT_EQ(*file, offsetof(sockaddr_un, sun_path) + 11);  // with the NUL
  EXPECT_FALSE(to_sockaddr_un("", address));
  EXPECT_FALSE(to_sockaddr_un(std::string(sizeof address.sun_path, 'x'), address));
}

TEST(SocketAddress, LocalEndpointReadsTheBoundPort) {
  Fd listener = listen_tcp({parse("127.0.0.1"), 0});
  auto bound = local_endpoint(listener.get());
  ASSERT_TRUE(bound);
  EXPECT_EQ(bound->address, parse("127.0.0.1"));
  EXPECT_NE(bound->port, 0);
}

TEST(AcceptPending, TakesWaitingConnectionsUpToTheBudget) {
  Fd listener = listen_tcp({parse("127.0.0.1"), 0});
  const Endpoint at = *local_endpoint(listener.get());
  std::vector<Fd> clients;
  for (int i = 0; i < 3; ++i) {
    auto connection = connect_nonblocking(Transport::Tcp, at);
    ASSERT_TRUE(connection);
    clients.push_back(std::move(connection->fd));
  }
  std::vector<Fd> accepted;
  auto take = [&](Fd fd) { accepted.push_back(std::move(fd)); };
  // Loopback connects complete at once, but give the kernel a moment.
  for (int i = 0; i < 100 && accepted.empty(); ++i) {
    EXPECT_FALSE(accept_pending(listener.get(), take, 2));
    if (accepted.empty()) ::usleep(1000);
  }
  EXPECT_EQ(accepted.size(), 2u) << "the budget stops the loop";
  EXPECT_FALSE(accept_pending(listener.get(), take, 2));
  EXPECT_EQ(accepted.size(), 3u);
  EXPECT_FALSE(accept_pending(listener.get(), take, 2)) << "an empty queue is no error";
  for (const Fd& fd : accepted) EXPECT_TRUE(fcntl(fd.get(), F_GETFL) & O_NONBLOCK);
}

TEST(AcceptPending, ReportsTheErrorThatStoppedIt) {
  Fd not_listening{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  int calls = 0;
  auto error = accept_pending(not_listening.get(), [&](Fd) { ++calls; });
  EXPECT_EQ(error, std::errc::invalid_argument);
  EXPECT_EQ(calls, 0);
}

TEST(SocketTuning, NonblockingIsSetAndCleared) {
  Fd fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  ASSERT_FALSE(set_nonblocking(fd.get(), true));
  EXPECT_TRUE(fcntl(fd.get(), F_GETFL) & O_NONBLOCK);
  ASSERT_FALSE(set_nonblocking(fd.get(), false));
  EXPECT_FALSE(fcntl(fd.get(), F_GETFL) & O_NONBLOCK);
  EXPECT_EQ(set_nonblocking(-1, true), std::errc::bad_file_descriptor);
}

TEST(SocketTuning, BufferSizesPastTheCapsAreAtLeastTheCappedOnes) {
  constexpr int kWanted = 8 * 1024 * 1024;
  Fd capped{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  Fd forced{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  ASSERT_FALSE(set_buffer_sizes(capped.get(), kWanted, kWanted));
  ASSERT_FALSE(set_buffer_sizes_past_caps(forced.get(), kWanted, kWanted));
  auto size = [](int fd, int name) {
    int value = 0;
    socklen_t length = sizeof value;
    EXPECT_EQ(::getsockopt(fd, SOL_SOCKET, name, &value, &length), 0);
    return value;
  };
  EXPECT_GE(size(forced.get(), SO_SNDBUF), size(capped.get(), SO_SNDBUF));
  EXPECT_GE(size(forced.get(), SO_RCVBUF), size(capped.get(), SO_RCVBUF));
  if (::geteuid() == 0) {
    EXPECT_GE(size(forced.get(), SO_RCVBUF), kWanted);  // the kernel doubles it
  }
}

TEST(SocketTuning, PeekOffsetProbeAgreesWithAFreshTcpSocket) {
  Fd fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  EXPECT_EQ(tcp_peek_offset_supported(), !set_peek_offset(fd.get(), 0));
}

TEST(SocketErrorsAsValues, WouldBlockAndTheRestAreErrorCodes) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  Fd a{fds[0]}, b{fds[1]};
  std::uint8_t buffer[8];
  auto empty = recv_some(a.get(), {buffer, sizeof buffer});
  EXPECT_FALSE(empty);
  EXPECT_TRUE(empty.would_block());
  b.reset();
  auto sent = send_some(a.get(), {buffer, sizeof buffer});
  EXPECT_FALSE(sent.would_block());
  EXPECT_EQ(sent.error(), std::errc::broken_pipe) << "and no SIGPIPE killed the test";
  auto end = recv_some(a.get(), {buffer, sizeof buffer});
  ASSERT_TRUE(end);
  EXPECT_EQ(*end, 0u);
}

}  // namespace
}  // namespace rtether::io
