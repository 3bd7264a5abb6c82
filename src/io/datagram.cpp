// UDP forwarding sockets; see datagram.hpp.
#include "io/datagram.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/core.h>

namespace rtether::io {

namespace {

int open_bound(const Endpoint& at, Fd& fd) {
  const int family = at.address.version == wire::IpVersion::V4 ? AF_INET : AF_INET6;
  fd = Fd{::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
  if (!fd.valid()) return -errno;
  int on = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) < 0) return -errno;
  if (family == AF_INET6 &&
      ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) < 0)
    return -errno;
  sockaddr_storage storage;
  const socklen_t length = to_sockaddr(at, storage);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) < 0) return -errno;
  return 0;
}

}  // namespace

Fd bind_udp(const Endpoint& at) {
  Fd fd;
  if (int result = open_bound(at, fd); result != 0)
    throw std::system_error(-result, std::generic_category(),
                            fmt::format("cannot bind UDP {}:{}", at.address.to_string(), at.port));
  return fd;
}

std::pair<Fd, int> open_udp_peer(const Endpoint& local, const Endpoint& peer) {
  Fd fd;
  if (int result = open_bound(local, fd); result != 0) return {Fd{}, result};
  sockaddr_storage storage;
  const socklen_t length = to_sockaddr(peer, storage);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) < 0) return {Fd{}, -errno};
  return {std::move(fd), 0};
}

long recv_from(int fd, wire::MutableBytes into, Endpoint& peer) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  const long got = ::recvfrom(fd, into.data(), into.size(), MSG_DONTWAIT,
                              reinterpret_cast<sockaddr*>(&storage), &length);
  if (got < 0) return -errno;
  if (storage.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&storage);
    peer.address = wire::IpAddress::v4_from(reinterpret_cast<const std::uint8_t*>(&sin->sin_addr));
    peer.port = ntohs(sin->sin_port);
  } else {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    peer.address = wire::IpAddress::v6_from(reinterpret_cast<const std::uint8_t*>(&sin6->sin6_addr));
    peer.port = ntohs(sin6->sin6_port);
  }
  return got;
}

}  // namespace rtether::io
