// Socket helpers: thin wrappers over the BSD socket calls; see socket.hpp.
#include "io/socket.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/core.h>

#include "io/log.hpp"
#include "io/outbound.hpp"
#include "io/linux/sockaddr.hpp"

namespace rtether::io {

void Fd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

namespace {

std::error_code last_error() { return {errno, std::generic_category()}; }

Result<std::size_t> transferred(long value) {
  if (value < 0) return last_error();
  return static_cast<std::size_t>(value);
}

std::error_code set_option(int fd, int level, int name, int value) {
  if (::setsockopt(fd, level, name, &value, sizeof value) < 0) return last_error();
  return {};
}

// The socket path in a system_error's message, for start-up failures.
sockaddr_un unix_address_or_throw(const std::string& path, socklen_t& length) {
  sockaddr_un address;
  auto built = to_sockaddr_un(path, address);
  if (!built)
    throw std::system_error(ENAMETOOLONG, std::generic_category(),
                            fmt::format("bad UNIX socket path '{}'", path));
  length = *built;
  return address;
}

}  // namespace

bool is_host_down(const std::error_code& error) {
  return error.category() == std::generic_category() && error.value() == EHOSTDOWN;
}

Result<Connection> connect_nonblocking(Transport transport, const Endpoint& to) {
  return connect_nonblocking(transport, to, Outbound{});
}

Result<Connection> connect_nonblocking(Transport transport, const Endpoint& to,
                                       const Outbound& from) {
  Fd fd{::socket(address_family(to.address.version),
                 socket_type(transport) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
  if (!fd.valid()) return last_error();
  if (!from.empty())
    if (auto failed = apply_outbound(fd.get(), to.address.version, from)) return failed->error;
  sockaddr_storage storage;
  socklen_t length = to_sockaddr(to, storage);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) == 0)
    return Connection{std::move(fd), false};
  if (errno == EINPROGRESS) return Connection{std::move(fd), true};
  return last_error();
}

std::error_code connect_result(int fd) {
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) < 0) return last_error();
  return {error, std::generic_category()};
}

Result<Endpoint> local_endpoint(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) < 0) return last_error();
  auto endpoint = from_sockaddr(storage);
  if (!endpoint) return std::make_error_code(std::errc::address_family_not_supported);
  return *endpoint;
}

Fd listen_tcp(const Endpoint& at, int backlog) {
  Fd fd{::socket(address_family(at.address.version), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                 0)};
  auto fail = [&](const char* what) {
    throw std::system_error(errno, std::generic_category(),
                            fmt::format("cannot {} {}:{}", what, at.address.to_string(), at.port));
  };
  if (!fd.valid()) fail("create a socket for");
  set_option(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1);
  sockaddr_storage storage;
  socklen_t length = to_sockaddr(at, storage);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) < 0) fail("listen on");
  if (::listen(fd.get(), backlog) < 0) fail("listen on");
  return fd;
}

Fd listen_unix(const std::string& path, int backlog) {
  socklen_t length;
  sockaddr_un address = unix_address_or_throw(path, length);
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
  socklen_t length;
  sockaddr_un address = unix_address_or_throw(path, length);
  Fd fd{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (!fd.valid() || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), length) < 0)
    throw std::system_error(errno, std::generic_category(),
                            fmt::format("cannot connect to UNIX socket {}", path));
  return fd;
}

Result<Connection> connect_unix_nonblocking(const std::string& path) {
  sockaddr_un address;
  auto length = to_sockaddr_un(path, address);
  if (!length) return std::make_error_code(std::errc::filename_too_long);
  Fd fd{::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
  if (!fd.valid()) return last_error();
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), *length) == 0)
    return Connection{std::move(fd), false};
  if (errno == EINPROGRESS) return Connection{std::move(fd), true};
  return last_error();
}

Result<Fd> accept_nonblocking(int listen_fd) {
  int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) return last_error();
  return Fd{fd};
}

std::error_code accept_pending(int listen_fd, const std::function<void(Fd)>& accepted,
                               int budget) {
  for (int count = 0; count < budget; ++count) {
    auto connection = accept_nonblocking(listen_fd);
    if (!connection) {
      // A signal that interrupted accept4 left the queue as it was: the
      // level-triggered listener wakes again.
      if (connection.would_block() || connection.error() == std::errc::interrupted) return {};
      return connection.error();
    }
    accepted(std::move(*connection));
  }
  return {};
}

Result<std::size_t> recv_some(int fd, wire::MutableBytes into) {
  return transferred(::recv(fd, into.data(), into.size(), MSG_DONTWAIT));
}
Result<std::size_t> recv_datagram(int fd, wire::MutableBytes into) {
  return transferred(::recv(fd, into.data(), into.size(), MSG_DONTWAIT | MSG_TRUNC));
}
Result<std::size_t> peek_some(int fd, wire::MutableBytes into) {
  return transferred(::recv(fd, into.data(), into.size(), MSG_DONTWAIT | MSG_PEEK));
}
Result<std::size_t> peek_after(int fd, wire::MutableBytes skip, wire::MutableBytes into) {
  iovec parts[2] = {{skip.data(), skip.size()}, {into.data(), into.size()}};
  msghdr message{};
  message.msg_iov = parts;
  message.msg_iovlen = 2;
  auto got = transferred(::recvmsg(fd, &message, MSG_DONTWAIT | MSG_PEEK));
  if (!got) return got;
  return *got > skip.size() ? *got - skip.size() : 0;
}

Result<std::size_t> discard(int fd, std::size_t bytes) {
  // TCP honours MSG_TRUNC on receive: the bytes are dropped without a copy.
  return transferred(::recv(fd, nullptr, bytes, MSG_DONTWAIT | MSG_TRUNC));
}
Result<std::size_t> send_some(int fd, wire::Bytes data) {
  return transferred(::send(fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL));
}
std::error_code shutdown_write(int fd) {
  return ::shutdown(fd, SHUT_WR) < 0 ? last_error() : std::error_code{};
}

std::error_code set_peek_offset(int fd, int offset) {
  return set_option(fd, SOL_SOCKET, SO_PEEK_OFF, offset);
}

bool tcp_peek_offset_supported() {
  static const bool supported = [] {
    Fd probe{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    bool works = probe.valid() && !set_peek_offset(probe.get(), 0);
    if (!works)
      log::warn("kernel lacks SO_PEEK_OFF for TCP (Linux >= 6.9 has it): "
                "host-to-device TCP uses a slower path");
    return works;
  }();
  return supported;
}

std::error_code set_nonblocking(int fd, bool nonblocking) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return last_error();
  const int wanted = nonblocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
  if (wanted != flags && ::fcntl(fd, F_SETFL, wanted) < 0) return last_error();
  return {};
}

std::error_code set_no_delay(int fd) { return set_option(fd, IPPROTO_TCP, TCP_NODELAY, 1); }

std::error_code set_buffer_sizes(int fd, int send_bytes, int receive_bytes) {
  if (send_bytes > 0)
    if (auto error = set_option(fd, SOL_SOCKET, SO_SNDBUF, send_bytes)) return error;
  if (receive_bytes > 0)
    if (auto error = set_option(fd, SOL_SOCKET, SO_RCVBUF, receive_bytes)) return error;
  return {};
}

std::error_code set_buffer_sizes_past_caps(int fd, int send_bytes, int receive_bytes) {
  if (send_bytes > 0 && set_option(fd, SOL_SOCKET, SO_SNDBUFFORCE, send_bytes))
    if (auto error = set_option(fd, SOL_SOCKET, SO_SNDBUF, send_bytes)) return error;
  if (receive_bytes > 0 && set_option(fd, SOL_SOCKET, SO_RCVBUFFORCE, receive_bytes))
    if (auto error = set_option(fd, SOL_SOCKET, SO_RCVBUF, receive_bytes)) return error;
  return {};
}

std::error_code set_abort_on_close(int fd) {
  linger value{1, 0};
  if (::setsockopt(fd, SOL_SOCKET, SO_LINGER, &value, sizeof value) < 0) return last_error();
  return {};
}

Result<std::size_t> send_with_fd(int socket_fd, wire::Bytes data, int fd) {
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
  return transferred(::sendmsg(socket_fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL));
}

Result<std::size_t> receive_with_fds(int socket_fd, wire::MutableBytes into, std::vector<Fd>& fds) {
  iovec part{into.data(), into.size()};
  msghdr message{};
  message.msg_iov = &part;
  message.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxReceivedFds)];
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  auto got = transferred(::recvmsg(socket_fd, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC));
  if (!got) return got;
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
  if (*got == 0 && (message.msg_flags & MSG_CTRUNC) != 0)
    return std::make_error_code(std::errc::message_size);
  return got;
}

long peer_uid(int socket_fd) {
  ucred credentials{};
  socklen_t length = sizeof credentials;
  if (::getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) < 0) return -1;
  return static_cast<long>(credentials.uid);
}

}  // namespace rtether::io
