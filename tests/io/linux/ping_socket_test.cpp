// Echo sockets (runs as root): each test runs on a thread of its own that
// moved into a new network namespace (net.ipv4.ping_group_range is per
// namespace, so the host's value is never touched) with loopback up. There
// ping sockets are forbidden ("1 0") or allowed, and echo requests go to
// 127.0.0.1 / ::1, whose kernel answers them.
#include "io/ping_socket.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "wire/checksum.hpp"
#include "wire/field.hpp"
#include "wire/transport.hpp"

namespace rtether::io {
namespace {

constexpr const char* kForbidden = "1 0";
constexpr const char* kAllowed = "0 2147483647";

wire::IpAddress parse(const char* text) {
  wire::IpAddress address;
  EXPECT_TRUE(wire::IpAddress::parse(text, address));
  return address;
}

Endpoint endpoint(const char* text) { return Endpoint{parse(text), 0}; }

// Runs `body` on a new thread in a new network namespace with loopback up
// and ping_group_range set to `ping_group_range`; the namespace goes with
// the thread.
template <typename Body>
void in_new_netns(const char* ping_group_range, Body body) {
  std::thread thread([&] {
    ASSERT_EQ(::unshare(CLONE_NEWNET), 0) << std::strerror(errno);
    Fd control{::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
    ifreq request{};
    std::strcpy(request.ifr_name, "lo");
    ASSERT_EQ(::ioctl(control.get(), SIOCGIFFLAGS, &request), 0);
    request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
    ASSERT_EQ(::ioctl(control.get(), SIOCSIFFLAGS, &request), 0);
    // /proc/sys/net follows the calling thread's namespace.
    Fd range{::open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY | O_CLOEXEC)};
    ASSERT_TRUE(range.valid());
    const std::string text = std::string(ping_group_range) + "\n";
    ASSERT_EQ(::write(range.get(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
    body();
  });
  thread.join();
}

// An echo request as a device writes it, with a checksum that is not the
// socket's business (left 0).
std::vector<std::uint8_t> echo_request(wire::IpVersion version, std::uint16_t identifier,
                                       std::uint16_t sequence, const std::string& payload) {
  std::vector<std::uint8_t> message(wire::kIcmpHeader + payload.size());
  wire::store(message.data(), wire::icmp_field::kType,
              version == wire::IpVersion::V4 ? wire::icmp_type::kEchoRequest
                                             : wire::icmp_type::kV6EchoRequest);
  wire::store(message.data(), wire::icmp_field::kEchoIdentifier, identifier);
  wire::store(message.data(), wire::icmp_field::kEchoSequence, sequence);
  std::memcpy(message.data() + wire::kIcmpHeader, payload.data(), payload.size());
  return message;
}

// The next echo reply receive_echo passes within `timeout_ms`, or empty.
std::vector<std::uint8_t> next_reply(const PingSocket& socket, int timeout_ms = 2000) {
  std::vector<std::uint8_t> buffer(65536);
  for (int wake = 0; wake < 20; ++wake) {
    pollfd ready{socket.fd.get(), POLLIN, 0};
    if (::poll(&ready, 1, timeout_ms) <= 0) break;
    auto got = receive_echo(socket.fd.get(), socket.mode, buffer);
    if (got.would_block()) continue;
    if (!got) {
      ADD_FAILURE() << got.error().message();
      break;
    }
    buffer.resize(*got);
    return buffer;
  }
  return {};
}

void expect_reply(const std::vector<std::uint8_t>& reply, wire::IpVersion version,
                  std::uint16_t identifier, std::uint16_t sequence, const std::string& payload) {
  auto message = wire::IcmpView::parse(reply);
  ASSERT_TRUE(message) << reply.size() << " bytes";
  EXPECT_EQ(message->type(), version == wire::IpVersion::V4 ? wire::icmp_type::kEchoReply
                                                            : wire::icmp_type::kV6EchoReply);
  EXPECT_EQ(message->echo_identifier(), identifier);
  EXPECT_EQ(message->echo_sequence(), sequence);
  EXPECT_EQ(std::string(message->payload().begin(), message->payload().end()), payload);
}

void send_request(const PingSocket& socket, wire::IpVersion version, std::uint16_t sequence,
                  const std::string& payload) {
  // The device's identifier (0x1234) is replaced by the socket's own.
  auto request = echo_request(version, 0x1234, sequence, payload);
  auto sent = send_echo(socket.fd.get(), socket.mode, request);
  ASSERT_TRUE(sent) << sent.error().message();
  EXPECT_EQ(*sent, request.size());
}

TEST(PingSocket, IsAKernelPingSocketWhereTheGroupMayOpenOne) {
  in_new_netns(kAllowed, [] {
    auto socket = open_ping_socket(endpoint("127.0.0.1"));
    ASSERT_TRUE(socket) << socket.error().message();
    EXPECT_FALSE(socket->mode.raw);
    send_request(*socket, wire::IpVersion::V4, 1, "dgram");
    auto reply = next_reply(*socket);
    ASSERT_FALSE(reply.empty());
    EXPECT_EQ(wire::IcmpView::parse(reply)->echo_sequence(), 1);
  });
}

TEST(PingSocket, FallsBackToARawSocketWhenPingSocketsAreForbidden) {
  in_new_netns(kForbidden, [] {
    for (const char* destination : {"127.0.0.1", "::1"}) {
      SCOPED_TRACE(destination);
      auto to = endpoint(destination);
      auto socket = open_ping_socket(to);
      ASSERT_TRUE(socket) << socket.error().message();
      EXPECT_TRUE(socket->mode.raw);
      send_request(*socket, to.address.version, 7, "raw payload");
      // The reply is the bare ICMP message (no IPv4 header), with the
      // socket's identifier (the flow puts the device's back).
      expect_reply(next_reply(*socket), to.address.version, socket->mode.identifier, 7,
                   "raw payload");
    }
  });
}

TEST(PingSocket, RawSocketsPassOnlyTheirOwnIdentifiersReplies) {
  in_new_netns(kForbidden, [] {
    for (const char* destination : {"127.0.0.1", "::1"}) {
      SCOPED_TRACE(destination);
      auto to = endpoint(destination);
      auto first = open_ping_socket(to);
      auto second = open_ping_socket(to);
      ASSERT_TRUE(first && second);
      ASSERT_NE(first->mode.identifier, second->mode.identifier);
      // Both raw sockets see both replies; each passes only its own.
      send_request(*first, to.address.version, 1, "first");
      send_request(*second, to.address.version, 2, "second");
      expect_reply(next_reply(*first), to.address.version, first->mode.identifier, 1, "first");
      expect_reply(next_reply(*second), to.address.version, second->mode.identifier, 2,
                   "second");
      EXPECT_TRUE(next_reply(*first, 200).empty());
      EXPECT_TRUE(next_reply(*second, 200).empty());
    }
  });
}

TEST(PingSocket, RawIpv4SocketSkipsAReplyWithABadChecksum) {
  in_new_netns(kForbidden, [] {
    auto socket = open_ping_socket(endpoint("127.0.0.1"));
    ASSERT_TRUE(socket);
    // Echo replies forged toward 127.0.0.1 by another raw socket: the first
    // with a wrong checksum, the second right; the kernel checks neither.
    Fd forger{::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP)};
    ASSERT_TRUE(forger.valid());
    sockaddr_in loopback{};
    loopback.sin_family = AF_INET;
    loopback.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (std::uint16_t sequence : {1, 2}) {
      auto reply = echo_request(wire::IpVersion::V4, socket->mode.identifier, sequence, "forged");
      wire::store(reply.data(), wire::icmp_field::kType, wire::icmp_type::kEchoReply);
      const std::uint16_t checksum = wire::internet_checksum(reply);
      wire::store(reply.data(), wire::icmp_field::kChecksum,
                  static_cast<std::uint16_t>(sequence == 1 ? checksum ^ 0x0101 : checksum));
      ASSERT_EQ(::sendto(forger.get(), reply.data(), reply.size(), 0,
                         reinterpret_cast<sockaddr*>(&loopback), sizeof loopback),
                static_cast<ssize_t>(reply.size()));
    }
    expect_reply(next_reply(*socket), wire::IpVersion::V4, socket->mode.identifier, 2, "forged");
  });
}

TEST(PingSocket, AFloodOfOthersRepliesIsReadOnLaterTurnsNotLost) {
  in_new_netns(kForbidden, [] {
    auto socket = open_ping_socket(endpoint("127.0.0.1"));
    ASSERT_TRUE(socket);
    // Room for the whole flood (root may exceed net.core.rmem_max).
    const int room = 8 << 20;
    ASSERT_EQ(::setsockopt(socket->fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &room, sizeof room), 0);
    Fd forger{::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP)};
    ASSERT_TRUE(forger.valid());
    sockaddr_in loopback{};
    loopback.sin_family = AF_INET;
    loopback.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    auto forge = [&](std::uint16_t identifier, std::uint16_t sequence) {
      auto reply = echo_request(wire::IpVersion::V4, identifier, sequence, "flood");
      wire::store(reply.data(), wire::icmp_field::kType, wire::icmp_type::kEchoReply);
      wire::store(reply.data(), wire::icmp_field::kChecksum, wire::internet_checksum(reply));
      ASSERT_EQ(::sendto(forger.get(), reply.data(), reply.size(), 0,
                         reinterpret_cast<sockaddr*>(&loopback), sizeof loopback),
                static_cast<ssize_t>(reply.size()));
    };
    // More foreign replies than one call skips, then ours.
    const auto foreign = static_cast<std::uint16_t>(socket->mode.identifier ^ 0xffff);
    for (std::uint16_t sequence = 0; sequence < 1500; ++sequence) forge(foreign, sequence);
    forge(socket->mode.identifier, 9);
    std::vector<std::uint8_t> buffer(65536);
    auto first = receive_echo(socket->fd.get(), socket->mode, buffer);
    ASSERT_FALSE(first);
    // Not would_block: an edge-triggered caller would never read ours.
    EXPECT_EQ(first.error(), std::errc::interrupted);
    auto second = receive_echo(socket->fd.get(), socket->mode, buffer);
    ASSERT_TRUE(second) << second.error().message();
    buffer.resize(*second);
    expect_reply(buffer, wire::IpVersion::V4, socket->mode.identifier, 9, "flood");
  });
}

TEST(PingSocket, WithoutCapNetRawTheRefusalIsThePingSockets) {
  in_new_netns(kForbidden, [] {
    // Capabilities are per thread: only this one loses CAP_NET_RAW.
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    ASSERT_EQ(::syscall(SYS_capget, &header, data), 0);
    data[CAP_TO_INDEX(CAP_NET_RAW)].effective &= ~CAP_TO_MASK(CAP_NET_RAW);
    ASSERT_EQ(::syscall(SYS_capset, &header, data), 0);
    for (const char* destination : {"127.0.0.1", "::1"}) {
      auto socket = open_ping_socket(endpoint(destination));
      ASSERT_FALSE(socket);
      EXPECT_EQ(socket.error(), std::errc::permission_denied) << destination;
    }
  });
}

}  // namespace
}  // namespace rtether::io
