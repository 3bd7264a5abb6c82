// UDP forwarding sockets; see datagram.hpp.
#include "io/datagram.hpp"

#include <netinet/in.h>

#include <cerrno>
#include <system_error>

#include <fmt/core.h>

#include "io/linux/sockaddr.hpp"

namespace rtether::io {

namespace {

std::error_code last_error() { return {errno, std::generic_category()}; }

std::error_code open_bound(const Endpoint& at, Fd& fd) {
  const int family = address_family(at.address.version);
  fd = Fd{::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
  if (!fd.valid()) return last_error();
  int on = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) < 0) return last_error();
  if (family == AF_INET6 &&
      ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) < 0)
    return last_error();
  sockaddr_storage storage;
  const socklen_t length = to_sockaddr(at, storage);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) < 0) return last_error();
  return {};
}

}  // namespace

Fd bind_udp(const Endpoint& at) {
  Fd fd;
  if (auto error = open_bound(at, fd))
    throw std::system_error(error,
                            fmt::format("cannot bind UDP {}:{}", at.address.to_string(), at.port));
  return fd;
}

Result<Fd> open_udp_peer(const Endpoint& local, const Endpoint& peer) {
  Fd fd;
  if (auto error = open_bound(local, fd)) return error;
  sockaddr_storage storage;
  const socklen_t length = to_sockaddr(peer, storage);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) < 0) return last_error();
  return fd;
}

Result<Datagram> recv_from(int fd, wire::MutableBytes into) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  const long got = ::recvfrom(fd, into.data(), into.size(), MSG_DONTWAIT,
                              reinterpret_cast<sockaddr*>(&storage), &length);
  if (got < 0) return last_error();
  Datagram datagram;
  datagram.size = static_cast<std::size_t>(got);
  if (auto from = from_sockaddr(storage)) datagram.from = *from;
  return datagram;
}

}  // namespace rtether::io
