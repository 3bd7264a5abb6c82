// UDP forwarding sockets on Winsock; see datagram.hpp. Windows shares a
// port between sockets with SO_REUSEADDR (SO_REUSEPORT does not exist).
#include "io/datagram.hpp"

#include <system_error>

#include <fmt/core.h>

#include "io/windows/edge_rearm.hpp"
#include "io/windows/sockaddr.hpp"
#include "io/windows/winsock.hpp"

namespace rtether::io {

namespace {

std::error_code open_bound(const Endpoint& at, Fd& fd) {
  const int family = address_family(at.address.version);
  auto opened = open_socket(family, SOCK_DGRAM, IPPROTO_UDP);
  if (!opened) return opened.error();
  fd = std::move(*opened);
  const int on = 1;
  if (::setsockopt(to_socket(fd.get()), SOL_SOCKET, SO_REUSEADDR,
                   reinterpret_cast<const char*>(&on), sizeof on) == SOCKET_ERROR)
    return last_winsock_error();
  if (family == AF_INET6 &&
      ::setsockopt(to_socket(fd.get()), IPPROTO_IPV6, IPV6_V6ONLY,
                   reinterpret_cast<const char*>(&on), sizeof on) == SOCKET_ERROR)
    return last_winsock_error();
  sockaddr_storage storage;
  const int length = to_sockaddr(at, storage);
  if (::bind(to_socket(fd.get()), reinterpret_cast<sockaddr*>(&storage), length) == SOCKET_ERROR)
    return last_winsock_error();
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
  const int length = to_sockaddr(peer, storage);
  if (::connect(to_socket(fd.get()), reinterpret_cast<sockaddr*>(&storage), length) == SOCKET_ERROR)
    return last_winsock_error();
  return fd;
}

Result<Datagram> recv_from(int fd, wire::MutableBytes into) {
  sockaddr_storage storage{};
  int length = sizeof storage;
  const int got =
      ::recvfrom(to_socket(fd), reinterpret_cast<char*>(into.data()), static_cast<int>(into.size()),
                 0, reinterpret_cast<sockaddr*>(&storage), &length);
  Datagram datagram;
  if (got == SOCKET_ERROR) {
    const int code = ::WSAGetLastError();
    if (code == WSAEWOULDBLOCK) rearm_after_io(fd, Interest::Read);
    // A datagram larger than the buffer: cut, as recvfrom does on Linux.
    if (code != WSAEMSGSIZE) return winsock_error(code);
    datagram.size = into.size();
  } else {
    datagram.size = static_cast<std::size_t>(got);
  }
  if (auto from = from_sockaddr(storage)) datagram.from = *from;
  return datagram;
}

}  // namespace rtether::io
