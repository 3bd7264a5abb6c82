// Socket helpers: an owning Fd, endpoints, and the few non-blocking socket
// operations the relay needs, with OS-neutral signatures (Transport, not
// SOCK_*; std::error_code, not errno), so that relay/ stays free of OS calls
// and headers. Every operation returns a value, never throws, except the
// listener constructors, which are start-up configuration.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "io/result.hpp"
#include "wire/bytes.hpp"
#include "wire/ip_address.hpp"

namespace rtether::io {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset();

 private:
  int fd_ = -1;
};

struct Endpoint {
  wire::IpAddress address;
  std::uint16_t port = 0;
};

// "Host is down" (EHOSTDOWN), which std::errc lacks (POSIX leaves it out).
bool is_host_down(const std::error_code& error);

// The transport of an IP socket, named for what it carries, not the OS
// constant.
enum class Transport : std::uint8_t { Tcp, Udp };

// A socket whose non-blocking connect was started.
struct Connection {
  Fd fd;
  // The connect is still under way: wait for writability (or an error),
  // then ask connect_result().
  bool in_progress = false;
};

// Non-blocking TCP or UDP socket connecting to `to` (a UDP connect only
// routes and fixes the peer, so it never is in progress).
Result<Connection> connect_nonblocking(Transport transport, const Endpoint& to);
// After writability of a connecting socket: no error when connected, else
// the reason the connect failed (SO_ERROR).
std::error_code connect_result(int fd);

// The address a socket is bound to (getsockname).
Result<Endpoint> local_endpoint(int fd);

// Listening sockets (non-blocking, close-on-exec). Throw std::system_error
// with a message naming the address on failure.
Fd listen_tcp(const Endpoint& at, int backlog = 512);
// path with a leading '@' is an abstract socket.
Fd listen_unix(const std::string& path, int backlog = 512);
Fd connect_unix_blocking(const std::string& path);  // throws on failure
// Non-blocking connect to a UNIX stream socket ('@' first = abstract), as
// connect_nonblocking (errors: resource_unavailable_try_again when the
// listener's backlog is full, filename_too_long for a bad path).
Result<Connection> connect_unix_nonblocking(const std::string& path);

// accept4, non-blocking and close-on-exec; would_block() when none waits.
Result<Fd> accept_nonblocking(int listen_fd);
// The accept loop of a level-triggered listener: hands each waiting
// connection to `accepted`, at most `budget` per call, so a connection storm
// cannot starve other work (the rest wake the loop again). Returns the error
// that stopped it early, none when the queue ran empty or the budget out.
inline constexpr int kAcceptBudget = 64;
std::error_code accept_pending(int listen_fd, const std::function<void(Fd)>& accepted,
                               int budget = kAcceptBudget);

// Transfers: bytes moved (0 from a receive: end of stream), or the error
// (would_block() when the call would block). Never block, never raise
// SIGPIPE.
Result<std::size_t> recv_some(int fd, wire::MutableBytes into);
// One datagram: its full length (more than into.size() when it did not fit
// and was cut).
Result<std::size_t> recv_datagram(int fd, wire::MutableBytes into);
// Peeks without consuming, from the peek offset when set_peek_offset() is on.
Result<std::size_t> peek_some(int fd, wire::MutableBytes into);
// Peeks past the first skip.size() queued bytes (copied into skip and thrown
// away) for kernels without a TCP peek offset (Linux < 6.9). Returns the
// bytes placed in `into`; 0 means nothing is queued past the skipped part.
Result<std::size_t> peek_after(int fd, wire::MutableBytes skip, wire::MutableBytes into);
// Drops bytes from a TCP receive queue without copying them.
Result<std::size_t> discard(int fd, std::size_t bytes);
Result<std::size_t> send_some(int fd, wire::Bytes data);
// No more data from us: the peer reads end of stream after what was sent.
std::error_code shutdown_write(int fd);

// Options; each returns the error, if any.
// Peeking starts `offset` bytes into the receive queue and moves with each
// peek (SO_PEEK_OFF); 0 rewinds to the first unread byte.
std::error_code set_peek_offset(int fd, int offset);
// Whether this kernel keeps a peek offset on TCP sockets (Linux >= 6.9).
// Probed once per process; the first call logs a warning when it does not.
bool tcp_peek_offset_supported();
// Socket tuning, in one place for every layer.
std::error_code set_nonblocking(int fd, bool nonblocking);
// Small writes leave at once (no Nagle): packets are whole messages.
std::error_code set_no_delay(int fd);
// 0 leaves a size as it is. The kernel caps each at net.core.wmem_max /
// rmem_max.
std::error_code set_buffer_sizes(int fd, int send_bytes, int receive_bytes);
// The same past those caps where the process may (CAP_NET_ADMIN, as root),
// capped otherwise.
std::error_code set_buffer_sizes_past_caps(int fd, int send_bytes, int receive_bytes);
// Closing the socket then resets the connection (RST) instead of a FIN
// (SO_LINGER with a zero timeout).
std::error_code set_abort_on_close(int fd);

// SCM_RIGHTS descriptor passing over a UNIX stream socket (the management
// protocol's OPENTUN and PROTECTFD). send_with_fd attaches `fd` (if >= 0) to
// the first byte sent; it sends without blocking, as send_some.
Result<std::size_t> send_with_fd(int socket_fd, wire::Bytes data, int fd);
// Receives bytes without blocking and appends any descriptors that came with
// them to `fds` (close-on-exec; at most kMaxReceivedFds per call, extra ones
// the kernel had to drop are reported as a message_size error only when no
// byte came). As recv_some otherwise.
inline constexpr int kMaxReceivedFds = 8;
Result<std::size_t> receive_with_fds(int socket_fd, wire::MutableBytes into, std::vector<Fd>& fds);

// The peer's user id of a connected UNIX socket (SO_PEERCRED), or -1.
long peer_uid(int socket_fd);

}  // namespace rtether::io
