// Ping sockets and the socket error queue; see socket_errors.hpp.
#include "io/socket_errors.hpp"

#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

#include "io/linux/sockaddr.hpp"
#include "io/outbound.hpp"

namespace rtether::io {

Result<Fd> open_ping_socket(const Endpoint& to) { return open_ping_socket(to, Outbound{}); }

Result<Fd> open_ping_socket(const Endpoint& to, const Outbound& from) {
  const bool v4 = to.address.version == wire::IpVersion::V4;
  Fd fd{::socket(address_family(to.address.version), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                 v4 ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6})};
  if (!fd.valid()) return std::error_code{errno, std::generic_category()};
  if (!from.empty())
    if (auto failed = apply_outbound(fd.get(), to.address.version, from)) return failed->error;
  enable_error_queue(fd.get());
  // Connected: replies from other hosts never reach it, and the kernel
  // routes once.
  sockaddr_storage storage;
  const socklen_t length = to_sockaddr(Endpoint{to.address, 0}, storage);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) < 0) {
    // connect() says EACCES for a broadcast destination: keep that apart
    // from socket()'s EACCES (ping_group_range).
    const int error = errno;
    return std::error_code{error == EACCES ? EPERM : error, std::generic_category()};
  }
  return fd;
}

std::optional<wire::IpVersion> socket_version(int fd) {
  int domain = 0;
  socklen_t length = sizeof domain;
  if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) < 0) return std::nullopt;
  if (domain == AF_INET) return wire::IpVersion::V4;
  if (domain == AF_INET6) return wire::IpVersion::V6;
  return std::nullopt;
}

std::error_code enable_error_queue(int fd) {
  const auto version = socket_version(fd);
  if (!version) return std::make_error_code(std::errc::address_family_not_supported);
  int on = 1;
  const int result = *version == wire::IpVersion::V4
                         ? ::setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof on)
                         : ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof on);
  return result < 0 ? std::error_code{errno, std::generic_category()} : std::error_code{};
}

std::optional<SocketError> read_error_queue(int fd) {
  // The offending datagram comes back as data; only its control message
  // matters, so a small buffer (truncated, MSG_TRUNC) is enough.
  std::uint8_t data[64];
  alignas(cmsghdr) std::uint8_t control[512];
  iovec iov{data, sizeof data};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  if (::recvmsg(fd, &message, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return std::nullopt;
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
    const bool v4 = c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR;
    const bool v6 = c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR;
    if (!v4 && !v6) continue;
    sock_extended_err extended;
    std::memcpy(&extended, CMSG_DATA(c), sizeof extended);
    SocketError error;
    error.error = std::error_code{static_cast<int>(extended.ee_errno), std::generic_category()};
    error.from_icmp =
        extended.ee_origin == SO_EE_ORIGIN_ICMP || extended.ee_origin == SO_EE_ORIGIN_ICMP6;
    error.icmp_v6 = extended.ee_origin == SO_EE_ORIGIN_ICMP6;
    error.type = extended.ee_type;
    error.code = extended.ee_code;
    error.info = extended.ee_info;
    return error;
  }
  // An entry without the extended error (should not happen): report it bare
  // so that the caller still drains the queue.
  return SocketError{};
}

std::uint32_t path_mtu(int fd) {
  const auto version = socket_version(fd);
  if (!version) return 0;
  int mtu = 0;
  socklen_t length = sizeof mtu;
  const int result = *version == wire::IpVersion::V4
                         ? ::getsockopt(fd, IPPROTO_IP, IP_MTU, &mtu, &length)
                         : ::getsockopt(fd, IPPROTO_IPV6, IPV6_MTU, &mtu, &length);
  return result < 0 || mtu < 0 ? 0 : static_cast<std::uint32_t>(mtu);
}

}  // namespace rtether::io
