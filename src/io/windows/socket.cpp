// Socket helpers on Winsock; see socket.hpp. Every socket is non-blocking
// from its creation (Winsock has no MSG_DONTWAIT) and not inheritable. A
// call that would block tells the thread's poller (edge_rearm.hpp). What
// Windows lacks is a clear error: SO_PEEK_OFF (relay/ takes its peek_after
// path), SCM_RIGHTS and SO_PEERCRED (the management interface, Linux only).
#include "io/socket.hpp"

#include <windows.h>
#include <winsock2.h>
#include <ws2tcpip.h>

#include <algorithm>
#include <system_error>

#include <fmt/core.h>

#include "io/windows/edge_rearm.hpp"
#include "io/windows/sockaddr.hpp"
#include "io/windows/winsock.hpp"

namespace rtether::io {

void Fd::reset() {
  if (fd_ >= 0) {
    forget_socket_state(fd_);
    ::closesocket(to_socket(fd_));
  }
  fd_ = -1;
}

Result<Fd> open_socket(int family, int type, int protocol) {
  Fd fd{to_fd(::WSASocketW(family, type, protocol, nullptr, 0,
                           WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT))};
  if (!fd.valid()) return last_winsock_error();
  if (auto error = set_nonblocking(fd.get(), true)) return error;
  if (type == SOCK_DGRAM)
    if (auto error = disable_udp_connection_reset(fd.get())) return error;
  return fd;
}

namespace {

// The error of the last call; WSAEWOULDBLOCK rearms `direction` of fd.
std::error_code failure(int fd, Interest direction) {
  const int code = ::WSAGetLastError();
  if (code == WSAEWOULDBLOCK) rearm_after_io(fd, direction);
  return winsock_error(code);
}

// A receive or send of `asked` bytes that returned `value`; a short one
// rearms `direction` (edge_rearm.hpp). An end of stream rearms nothing:
// the peer's close was or will be reported once.
Result<std::size_t> transferred(int fd, int value, Interest direction, std::size_t asked) {
  if (value == SOCKET_ERROR) return failure(fd, direction);
  const auto moved = static_cast<std::size_t>(value);
  if (moved < asked && !(direction == Interest::Read && moved == 0)) rearm_after_io(fd, direction);
  return moved;
}

// Winsock counts lengths in int: a larger span moves in several calls.
int chunk(std::size_t size) { return static_cast<int>(std::min<std::size_t>(size, 0x7fffffff)); }

// A receive that returned 0: the end of the stream, or the peer's reset
// that Wine reports as one (edge_rearm.hpp, reset_seen).
Result<std::size_t> end_of_stream(int fd) {
  if (reset_seen(fd)) return std::make_error_code(std::errc::connection_reset);
  return std::size_t{0};
}

std::error_code set_option(int fd, int level, int name, int value) {
  if (::setsockopt(to_socket(fd), level, name, reinterpret_cast<const char*>(&value),
                   sizeof value) == SOCKET_ERROR)
    return last_winsock_error();
  return {};
}

// The text of every UNIX socket failure on Windows that is not the OS's.
constexpr const char* kUnixLinkHint =
    "the UNIX link needs AF_UNIX (Windows 10 1803 or later) and a file path; "
    "use the TCP link";

Result<Connection> connect_started(Fd fd, const sockaddr* address, int length) {
  if (::connect(to_socket(fd.get()), address, length) == 0) return Connection{std::move(fd), false};
  // A non-blocking connect under way says WSAEWOULDBLOCK ("connect" in
  // Microsoft's Winsock reference), not EINPROGRESS.
  const int code = ::WSAGetLastError();
  if (code == WSAEWOULDBLOCK) return Connection{std::move(fd), true};
  return winsock_error(code);
}

}  // namespace

bool is_host_down(const std::error_code& error) {
  return error.category() == winsock_category() && error.value() == WSAEHOSTDOWN;
}

Result<Connection> connect_nonblocking(Transport transport, const Endpoint& to) {
  auto fd = open_socket(address_family(to.address.version), socket_type(transport), 0);
  if (!fd) return fd.error();
  sockaddr_storage storage;
  const int length = to_sockaddr(to, storage);
  return connect_started(std::move(*fd), reinterpret_cast<sockaddr*>(&storage), length);
}

std::error_code connect_result(int fd) {
  int error = 0;
  int length = sizeof error;
  if (::getsockopt(to_socket(fd), SOL_SOCKET, SO_ERROR, reinterpret_cast<char*>(&error), &length) ==
      SOCKET_ERROR)
    return last_winsock_error();
  return error == 0 ? std::error_code{} : winsock_error(error);
}

Result<Endpoint> local_endpoint(int fd) {
  sockaddr_storage storage{};
  int length = sizeof storage;
  if (::getsockname(to_socket(fd), reinterpret_cast<sockaddr*>(&storage), &length) == SOCKET_ERROR)
    return last_winsock_error();
  auto endpoint = from_sockaddr(storage);
  if (!endpoint) return std::make_error_code(std::errc::address_family_not_supported);
  return *endpoint;
}

Fd listen_tcp(const Endpoint& at, int backlog) {
  auto fail = [&](const char* what, std::error_code error) {
    throw std::system_error(error,
                            fmt::format("cannot {} {}:{}", what, at.address.to_string(), at.port));
  };
  auto fd = open_socket(address_family(at.address.version), SOCK_STREAM, 0);
  if (!fd) fail("create a socket for", fd.error());
  // Without it Windows lets another socket with SO_REUSEADDR take the port
  // from under us ("Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE"): a port in
  // use must fail here, as on Linux.
  set_option(fd->get(), SOL_SOCKET, SO_EXCLUSIVEADDRUSE, 1);
  // Linux's default: an IPv6 listener also takes IPv4 connections.
  if (at.address.version == wire::IpVersion::V6)
    set_option(fd->get(), IPPROTO_IPV6, IPV6_V6ONLY, 0);
  sockaddr_storage storage;
  const int length = to_sockaddr(at, storage);
  if (::bind(to_socket(fd->get()), reinterpret_cast<sockaddr*>(&storage), length) == SOCKET_ERROR)
    fail("listen on", last_winsock_error());
  if (::listen(to_socket(fd->get()), backlog) == SOCKET_ERROR)
    fail("listen on", last_winsock_error());
  return std::move(*fd);
}

Fd listen_unix(const std::string& path, int backlog) {
  auto fail = [&](const char* what, std::error_code error) {
    throw std::system_error(
        error, fmt::format("cannot {} UNIX socket {} ({})", what, path, kUnixLinkHint));
  };
  sockaddr_un address;
  auto length = to_sockaddr_un(path, address);
  if (!length) fail("bind", std::make_error_code(std::errc::filename_too_long));
  auto fd = open_socket(AF_UNIX, SOCK_STREAM, 0);
  if (!fd) fail("create", fd.error());
  if (::bind(to_socket(fd->get()), reinterpret_cast<sockaddr*>(&address), *length) == SOCKET_ERROR)
    fail("bind", last_winsock_error());
  if (::listen(to_socket(fd->get()), backlog) == SOCKET_ERROR)
    fail("listen on", last_winsock_error());
  return std::move(*fd);
}

Fd connect_unix_blocking(const std::string& path) {
  auto fail = [&](std::error_code error) {
    throw std::system_error(
        error, fmt::format("cannot connect to UNIX socket {} ({})", path, kUnixLinkHint));
  };
  sockaddr_un address;
  auto length = to_sockaddr_un(path, address);
  if (!length) fail(std::make_error_code(std::errc::filename_too_long));
  auto fd = open_socket(AF_UNIX, SOCK_STREAM, 0);
  if (!fd) fail(fd.error());
  if (auto error = set_nonblocking(fd->get(), false)) fail(error);
  if (::connect(to_socket(fd->get()), reinterpret_cast<sockaddr*>(&address), *length) ==
      SOCKET_ERROR)
    fail(last_winsock_error());
  return std::move(*fd);
}

Result<Connection> connect_unix_nonblocking(const std::string& path) {
  sockaddr_un address;
  auto length = to_sockaddr_un(path, address);
  if (!length) return std::make_error_code(std::errc::filename_too_long);
  auto fd = open_socket(AF_UNIX, SOCK_STREAM, 0);
  if (!fd) return fd.error();
  return connect_started(std::move(*fd), reinterpret_cast<sockaddr*>(&address), *length);
}

Result<Fd> accept_nonblocking(int listen_fd) {
  Fd fd{to_fd(::accept(to_socket(listen_fd), nullptr, nullptr))};
  if (!fd.valid()) return failure(listen_fd, Interest::Read);
  // An accepted socket has its listener's options, non-blocking included
  // ("accept" in Microsoft's Winsock reference); the inherit flag is the
  // handle's own.
  ::SetHandleInformation(reinterpret_cast<HANDLE>(to_socket(fd.get())), HANDLE_FLAG_INHERIT, 0);
  if (auto error = set_nonblocking(fd.get(), true)) return error;
  return fd;
}

std::error_code accept_pending(int listen_fd, const std::function<void(Fd)>& accepted, int budget) {
  for (int count = 0; count < budget; ++count) {
    auto connection = accept_nonblocking(listen_fd);
    if (!connection) {
      // A connection reset before we took it is gone; the next one waits.
      if (connection.error() == std::errc::connection_reset) continue;
      if (connection.would_block() || connection.error() == std::errc::interrupted) return {};
      return connection.error();
    }
    accepted(std::move(*connection));
  }
  return {};
}

Result<std::size_t> recv_some(int fd, wire::MutableBytes into) {
  const int asked = chunk(into.size());
  auto got = transferred(fd, ::recv(to_socket(fd), reinterpret_cast<char*>(into.data()), asked, 0),
                         Interest::Read, static_cast<std::size_t>(asked));
  if (got && *got == 0 && asked > 0) return end_of_stream(fd);
  if (!got && got.error() == std::errc::connection_reset) return queued_udp_reset(fd, got.error());
  return got;
}

Result<std::size_t> recv_datagram(int fd, wire::MutableBytes into) {
  auto got = recv_some(fd, into);
  // Winsock fills the buffer, drops the rest and says WSAEMSGSIZE
  // ("recv" in Microsoft's Winsock reference) without the full length: one
  // more than the buffer says "cut".
  if (!got && got.error() == std::errc::message_size) return into.size() + 1;
  return got;
}

Result<std::size_t> peek_some(int fd, wire::MutableBytes into) {
  const int asked = chunk(into.size());
  const int got = ::recv(to_socket(fd), reinterpret_cast<char*>(into.data()), asked, MSG_PEEK);
  if (got == SOCKET_ERROR) return failure(fd, Interest::Read);
  if (got == 0 && asked > 0) return end_of_stream(fd);
  if (got < asked) rearm_after_peek(fd, static_cast<std::size_t>(got));
  return static_cast<std::size_t>(got);
}

Result<std::size_t> peek_after(int fd, wire::MutableBytes skip, wire::MutableBytes into) {
  WSABUF parts[2] = {
      {static_cast<ULONG>(chunk(skip.size())), reinterpret_cast<char*>(skip.data())},
      {static_cast<ULONG>(chunk(into.size())), reinterpret_cast<char*>(into.data())}};
  DWORD got = 0;
  DWORD flags = MSG_PEEK;
  if (::WSARecv(to_socket(fd), parts, 2, &got, &flags, nullptr, nullptr) == SOCKET_ERROR)
    return failure(fd, Interest::Read);
  if (got == 0 && skip.size() + into.size() > 0) return end_of_stream(fd);
  const std::size_t past = got > skip.size() ? got - skip.size() : 0;
  if (got > 0 && past < into.size()) rearm_after_peek(fd, got);
  return past;
}

Result<std::size_t> discard(int fd, std::size_t bytes) {
  // No MSG_TRUNC for TCP on Windows: the bytes are read into scratch.
  thread_local char scratch[64 * 1024];
  std::size_t dropped = 0;
  while (dropped < bytes) {
    const int want = static_cast<int>(std::min(bytes - dropped, sizeof scratch));
    const int got = ::recv(to_socket(fd), scratch, want, 0);
    if (got == SOCKET_ERROR) {
      auto error = failure(fd, Interest::Read);
      if (dropped > 0) return dropped;
      return error;
    }
    if (got == 0) break;
    dropped += static_cast<std::size_t>(got);
    note_consumed(fd, static_cast<std::size_t>(got));
    if (got < want) {
      rearm_after_io(fd, Interest::Read);  // the queue ran empty
      break;
    }
  }
  return dropped;
}

Result<std::size_t> send_some(int fd, wire::Bytes data) {
  const int asked = chunk(data.size());
  return transferred(fd,
                     ::send(to_socket(fd), reinterpret_cast<const char*>(data.data()), asked, 0),
                     Interest::Write, static_cast<std::size_t>(asked));
}

std::error_code shutdown_write(int fd) {
  return ::shutdown(to_socket(fd), SD_SEND) == SOCKET_ERROR ? last_winsock_error()
                                                            : std::error_code{};
}

std::error_code set_peek_offset(int, int) {
  return std::make_error_code(std::errc::no_protocol_option);
}

bool tcp_peek_offset_supported() {
  // Nothing to probe or to warn about: Windows has no peek offset, and the
  // peek_after path is this platform's normal one.
  return false;
}

std::error_code set_nonblocking(int fd, bool nonblocking) {
  u_long value = nonblocking ? 1 : 0;
  if (::ioctlsocket(to_socket(fd), FIONBIO, &value) == SOCKET_ERROR) return last_winsock_error();
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
  // Windows caps neither size below what a process may ask for.
  return set_buffer_sizes(fd, send_bytes, receive_bytes);
}

std::error_code set_abort_on_close(int fd) {
  linger value{1, 0};
  if (::setsockopt(to_socket(fd), SOL_SOCKET, SO_LINGER, reinterpret_cast<const char*>(&value),
                   sizeof value) == SOCKET_ERROR)
    return last_winsock_error();
  return {};
}

Result<std::size_t> send_with_fd(int, wire::Bytes, int) {
  // Windows has no SCM_RIGHTS: the management interface is Linux only.
  return std::make_error_code(std::errc::operation_not_supported);
}

Result<std::size_t> receive_with_fds(int, wire::MutableBytes, std::vector<Fd>&) {
  return std::make_error_code(std::errc::operation_not_supported);
}

long peer_uid(int) { return -1; }  // no SO_PEERCRED: no user id to give

}  // namespace rtether::io
