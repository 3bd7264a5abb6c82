// Connecting to the relay; see relay_link.hpp. The connect and the id read
// are non-blocking with poll() so a signal (cancel_fd) or a silent peer (adb
// reverse with no relay behind it accepts, then says nothing) never hangs
// the client; the returned socket is blocking again for the forwarder.
#include "device/relay_link.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

#include <fmt/core.h>

#include "io/linux/sockaddr.hpp"
#include "io/crypto.hpp"
#include "io/socket.hpp"
#include "wire/bytes.hpp"
#include "wire/secret_handshake.hpp"

namespace rtether::device {
namespace {

// Large buffers let one side run ahead of the other by several 64 KiB
// packets, past the rmem_max/wmem_max caps when root.
constexpr int kSocketBuffer = 4 * 1024 * 1024;

using Clock = std::chrono::steady_clock;

void tune_socket(int fd, bool tcp) {
  io::set_buffer_sizes_past_caps(fd, kSocketBuffer, kSocketBuffer);
  // Packets are whole messages: never hold a small one back (Nagle).
  if (tcp) io::set_no_delay(fd);
}

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Waits for `events` on fd; false with `error` set on timeout or cancel.
bool wait_for(int fd, short events, int cancel_fd, Clock::time_point deadline,
              std::string& error) {
  for (;;) {
    pollfd fds[2] = {{fd, events, 0}, {cancel_fd, POLLIN, 0}};
    int ready = poll(fds, cancel_fd >= 0 ? 2 : 1, remaining_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) {
      error = std::string("poll: ") + std::strerror(errno);
      return false;
    }
    if (cancel_fd >= 0 && (fds[1].revents & POLLIN)) {
      error = "cancelled";
      return false;
    }
    if (fds[0].revents != 0) return true;
    if (ready == 0) {
      error = "timed out";
      return false;
    }
  }
}

// The IP address a socket address names; nullopt for AF_UNIX.
std::optional<wire::IpAddress> destination_of(const sockaddr* address, socklen_t length) {
  sockaddr_storage storage{};
  std::memcpy(&storage, address, std::min<std::size_t>(length, sizeof storage));
  auto endpoint = io::from_sockaddr(storage);
  if (!endpoint) return std::nullopt;
  return endpoint->address;
}

void numeric_name(const sockaddr_storage& address, socklen_t length, std::string& host,
                  std::string& port) {
  char host_text[NI_MAXHOST];
  char port_text[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&address), length, host_text, sizeof host_text,
                  port_text, sizeof port_text, NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    host = host_text;
    port = port_text;
  }
}

// One connect attempt to one socket address.
io::Fd connect_one(const sockaddr* address, socklen_t length, bool tcp, int cancel_fd,
                     Clock::time_point& deadline, std::string& error,
                     const BeforeConnect& before_connect) {
  io::Fd fd(socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    error = std::string("socket: ") + std::strerror(errno);
    return {};
  }
  tune_socket(fd.get(), tcp);
  if (before_connect) {
    // The callback waits for the UI (PROTECTFD): that time is not the
    // relay's, so it does not count against the connect timeout.
    auto asked = Clock::now();
    bool go_on = before_connect(fd.get(), destination_of(address, length), error);
    deadline += Clock::now() - asked;
    if (!go_on) return {};
  }
  if (connect(fd.get(), address, length) < 0) {
    if (errno != EINPROGRESS) {
      error = std::strerror(errno);
      return {};
    }
    if (!wait_for(fd.get(), POLLOUT, cancel_fd, deadline, error)) return {};
    if (auto failure = io::connect_result(fd.get())) {
      error = failure.message();
      return {};
    }
  }
  return fd;
}

io::Fd connect_unix(const std::string& path, int cancel_fd, Clock::time_point& deadline,
                      std::string& error, const BeforeConnect& before_connect) {
  sockaddr_un address;
  auto length = io::to_sockaddr_un(path, address);
  if (!length) {
    error = "socket path too long";
    return {};
  }
  return connect_one(reinterpret_cast<sockaddr*>(&address), *length, false, cancel_fd, deadline,
                     error, before_connect);
}

io::Fd connect_tcp(const RelayAddress& relay, int cancel_fd, Clock::time_point& deadline,
                     std::string& error, const BeforeConnect& before_connect) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string port = std::to_string(relay.port);
  int status = getaddrinfo(relay.host.c_str(), port.c_str(), &hints, &found);
  if (status != 0) {
    error = gai_strerror(status);
    return {};
  }
  io::Fd fd;
  for (addrinfo* entry = found; entry != nullptr && !fd.valid(); entry = entry->ai_next) {
    fd = connect_one(entry->ai_addr, entry->ai_addrlen, true, cancel_fd, deadline, error,
                     before_connect);
    if (error == "cancelled") break;
  }
  freeaddrinfo(found);
  return fd;
}

}  // namespace

std::string RelayAddress::to_string() const {
  if (kind == Kind::Unix) return "unix:" + path;
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::optional<RelayAddress> parse_relay_address(std::string_view text, std::string& error) {
  RelayAddress address;
  if (text.starts_with("unix:")) {
    address.kind = RelayAddress::Kind::Unix;
    address.path = std::string(text.substr(5));
    if (address.path.empty() || address.path == "@") {
      error = fmt::format("'{}' has no socket path", text);
      return std::nullopt;
    }
    if (address.path.size() >= sizeof(sockaddr_un::sun_path)) {
      error = fmt::format("socket path '{}' is too long", address.path);
      return std::nullopt;
    }
    return address;
  }
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    error = fmt::format("'{}' is not HOST:PORT or unix:PATH", text);
    return std::nullopt;
  }
  auto host = text.substr(0, colon);
  if (host.starts_with('[') && host.ends_with(']')) {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    error = fmt::format("IPv6 relay address '{}' needs brackets: [ADDR]:PORT", text);
    return std::nullopt;
  }
  auto digits = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (host.empty() || digits.empty() || ec != std::errc{} ||
      end != digits.data() + digits.size() || port == 0 || port > 65535) {
    error = fmt::format("bad relay address '{}' (expected HOST:PORT, port 1-65535)", text);
    return std::nullopt;
  }
  address.host = std::string(host);
  address.port = static_cast<std::uint16_t>(port);
  return address;
}

namespace {

// Reads `size` bytes the relay sends first (`what` names them in errors).
bool read_exactly(int fd, std::uint8_t* into, std::size_t size, const char* what, int cancel_fd,
                  Clock::time_point deadline, std::string& error) {
  std::size_t received = 0;
  while (received < size) {
    if (!wait_for(fd, POLLIN, cancel_fd, deadline, error)) {
      error = fmt::format("no {} from relay: {}", what, error);
      return false;
    }
    ssize_t n = recv(fd, into + received, size - received, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) {
      error = n == 0 ? fmt::format("relay closed the connection before sending a {}", what)
                     : fmt::format("reading {}: {}", what, std::strerror(errno));
      return false;
    }
    received += static_cast<std::size_t>(n);
  }
  return true;
}

// The client's side of the --secret handshake (wire/secret_handshake.hpp):
// the nonce after the id, answered with its HMAC before any packet.
bool answer_secret(int fd, std::uint32_t client_id, wire::Bytes secret, int cancel_fd,
                   Clock::time_point deadline, std::string& error) {
  namespace handshake = wire::secret_handshake;
  std::uint8_t nonce[handshake::kNonceSize];
  if (!read_exactly(fd, nonce, sizeof nonce, "secret nonce (does the relay have --secret?)",
                    cancel_fd, deadline, error))
    return false;
  auto answer = io::hmac_sha256(secret, handshake::answered_message(client_id, nonce));
  // A fresh socket's send buffer takes 32 bytes at once.
  auto sent = io::send_some(fd, answer);
  if (!sent || *sent != answer.size()) {
    error = "sending the secret answer: " +
            (sent ? std::string("short write") : sent.error().message());
    return false;
  }
  return true;
}

}  // namespace

std::optional<RelayConnection> connect_relay(const RelayAddress& address, int cancel_fd,
                                             int timeout_ms, std::string& error,
                                             const BeforeConnect& before_connect,
                                             wire::Bytes secret) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  io::Fd fd = address.kind == RelayAddress::Kind::Unix
                    ? connect_unix(address.path, cancel_fd, deadline, error, before_connect)
                    : connect_tcp(address, cancel_fd, deadline, error, before_connect);
  if (!fd.valid()) return std::nullopt;
  std::uint8_t id[wire::secret_handshake::kClientIdSize];
  if (!read_exactly(fd.get(), id, sizeof id, "client id", cancel_fd, deadline, error))
    return std::nullopt;
  if (!secret.empty() && !answer_secret(fd.get(), wire::load_be32(id), secret, cancel_fd,
                                        deadline, error))
    return std::nullopt;
  io::set_nonblocking(fd.get(), false);
  RelayConnection connection{std::move(fd), wire::load_be32(id), {}, {}, {}, {}};
  if (address.kind == RelayAddress::Kind::Tcp) {
    sockaddr_storage name{};
    socklen_t length = sizeof name;
    if (getpeername(connection.stream.get(), reinterpret_cast<sockaddr*>(&name), &length) == 0) {
      numeric_name(name, length, connection.remote_address, connection.remote_port);
    }
    length = sizeof name;
    if (getsockname(connection.stream.get(), reinterpret_cast<sockaddr*>(&name), &length) == 0) {
      numeric_name(name, length, connection.local_address, connection.local_port);
    }
  }
  return connection;
}

}  // namespace rtether::device
