// Socket helpers: thin wrappers over the BSD socket calls used by the relay.
#include "io/socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/core.h>

namespace rtether::io {

void Fd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

socklen_t to_sockaddr(const Endpoint& endpoint, sockaddr_storage& storage) {
  std::memset(&storage, 0, sizeof storage);
  if (endpoint.address.version == wire::IpVersion::V4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(endpoint.port);
    std::memcpy(&sin->sin_addr, endpoint.address.bytes.data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(endpoint.port);
  std::memcpy(&sin6->sin6_addr, endpoint.address.bytes.data(), 16);
  return sizeof(sockaddr_in6);
}

namespace {

socklen_t to_sockaddr_un(const std::string& path, sockaddr_un& address) {
  std::memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof address.sun_path)
    throw std::system_error(ENAMETOOLONG, std::generic_category(),
                            fmt::format("bad UNIX socket path '{}'", path));
  std::memcpy(address.sun_path, path.data(), path.size());
  // An abstract name is '@' then the name; the kernel wants a NUL first and
  // counts the exact length (no trailing NUL).
  if (path[0] == '@') address.sun_path[0] = '\0';
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() +
                                (path[0] == '@' ? 0 : 1));
}

long result(long value) { return value < 0 ? -errno : value; }

}  // namespace

std::pair<Fd, int> connect_nonblocking(int type, const Endpoint& to) {
  int family = to.address.version == wire::IpVersion::V4 ? AF_INET : AF_INET6;
  Fd fd{::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
  if (!fd.valid()) return {Fd{}, -errno};
  sockaddr_storage storage;
  socklen_t length = to_sockaddr(to, storage);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) < 0) {
    int error = errno;
    if (error == EINPROGRESS) return {std::move(fd), -EINPROGRESS};
    return {Fd{}, -error};
  }
  return {std::move(fd), 0};
}

int connect_result(int fd) {
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) < 0) return -errno;
  return -error;
}

Fd listen_tcp(const Endpoint& at, int backlog) {
  int family = at.address.version == wire::IpVersion::V4 ? AF_INET : AF_INET6;
  Fd fd{::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
  auto fail = [&](const char* what) {
    throw std::system_error(errno, std::generic_category(),
                            fmt::format("cannot {} {}:{}", what, at.address.to_string(), at.port));
  };
  if (!fd.valid()) fail("create a socket for");
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage storage;
  socklen_t length = to_sockaddr(at, storage);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) < 0) fail("listen on");
  if (::listen(fd.get(), backlog) < 0) fail("listen on");
  return fd;
}

Fd listen_unix(const std::string& path, int backlog) {
  sockaddr_un address;
  socklen_t length = to_sockaddr_un(path, address);
  Fd fd{::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
  auto fail = [&](const char* what) {
    throw std::system_error(errno, std::generic_category(),
                            fmt::format("cannot {} UNIX socket {}", what, path));
  };
  if (!fd.valid()) fail("create");
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), length) < 0) fail("bind");
  if (::listen(fd.get(), backlog) < 0) fail("listen on");
  return fd;
}

Fd connect_unix_blocking(const std::string& path) {
  sockaddr_un address;
  socklen_t length = to_sockaddr_un(path, address);
  Fd fd{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (!fd.valid() || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), length) < 0)
    throw std::system_error(errno, std::generic_category(),
                            fmt::format("cannot connect to UNIX socket {}", path));
  return fd;
}

std::pair<Fd, int> connect_unix_nonblocking(const std::string& path) {
  sockaddr_un address;
  if (path.empty() || path.size() >= sizeof address.sun_path) return {Fd{}, -ENAMETOOLONG};
  socklen_t length = to_sockaddr_un(path, address);
  Fd fd{::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
  if (!fd.valid()) return {Fd{}, -errno};
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), length) == 0)
    return {std::move(fd), 0};
  if (errno == EINPROGRESS) return {std::move(fd), -EINPROGRESS};
  return {Fd{}, -errno};
}

Fd accept_nonblocking(int listen_fd, int* error) {
  int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  *error = fd < 0 ? errno : 0;
  return Fd{fd};
}

long recv_some(int fd, wire::MutableBytes into) {
  return result(::recv(fd, into.data(), into.size(), MSG_DONTWAIT));
}
long recv_datagram(int fd, wire::MutableBytes into) {
  return result(::recv(fd, into.data(), into.size(), MSG_DONTWAIT | MSG_TRUNC));
}
long peek_some(int fd, wire::MutableBytes into) {
  return result(::recv(fd, into.data(), into.size(), MSG_DONTWAIT | MSG_PEEK));
}
long peek_after(int fd, wire::MutableBytes skip, wire::MutableBytes into) {
  iovec parts[2] = {{skip.data(), skip.size()}, {into.data(), into.size()}};
  msghdr message{};
  message.msg_iov = parts;
  message.msg_iovlen = 2;
  long got = result(::recvmsg(fd, &message, MSG_DONTWAIT | MSG_PEEK));
  if (got < 0) return got;
  return got > static_cast<long>(skip.size()) ? got - static_cast<long>(skip.size()) : 0;
}

long discard(int fd, std::size_t bytes) {
  // TCP honours MSG_TRUNC on receive: the bytes are dropped without a copy.
  return result(::recv(fd, nullptr, bytes, MSG_DONTWAIT | MSG_TRUNC));
}
long send_some(int fd, wire::Bytes data) {
  return result(::send(fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL));
}
int shutdown_write(int fd) { return ::shutdown(fd, SHUT_WR) < 0 ? -errno : 0; }

int set_peek_offset(int fd, int offset) {
  return ::setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &offset, sizeof offset) < 0 ? -errno : 0;
}
int set_no_delay(int fd) {
  int one = 1;
  return ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ? -errno : 0;
}
int set_buffer_sizes(int fd, int send_bytes, int receive_bytes) {
  if (send_bytes > 0 && ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &send_bytes, sizeof send_bytes) < 0)
    return -errno;
  if (receive_bytes > 0 &&
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_bytes, sizeof receive_bytes) < 0)
    return -errno;
  return 0;
}
int set_linger_reset(int fd) {
  linger value{1, 0};
  return ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &value, sizeof value) < 0 ? -errno : 0;
}

std::string error_text(int negative_errno) { return std::strerror(-negative_errno); }

long send_with_fd(int socket_fd, wire::Bytes data, int fd) {
  iovec part{const_cast<std::uint8_t*>(data.data()), data.size()};
  msghdr message{};
  message.msg_iov = &part;
  message.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(header), &fd, sizeof fd);
  }
  return result(::sendmsg(socket_fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL));
}

long receive_with_fds(int socket_fd, wire::MutableBytes into, std::vector<Fd>& fds) {
  iovec part{into.data(), into.size()};
  msghdr message{};
  message.msg_iov = &part;
  message.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxReceivedFds)];
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  long got = result(::recvmsg(socket_fd, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC));
  if (got < 0) return got;
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
       header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    std::size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof fd);
      fds.emplace_back(fd);
    }
  }
  if (got == 0 && (message.msg_flags & MSG_CTRUNC) != 0) return -EMSGSIZE;
  return got;
}

long peer_uid(int socket_fd) {
  ucred credentials{};
  socklen_t length = sizeof credentials;
  if (::getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) < 0) return -1;
  return static_cast<long>(credentials.uid);
}

}  // namespace rtether::io
