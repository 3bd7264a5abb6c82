// Socket helpers: an owning Fd, address conversion, and the few non-blocking
// socket operations the relay needs, so that relay/ stays free of OS calls.
// Every operation returns a value (bytes or -errno), never throws, except the
// listener constructors, which are start-up configuration.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

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

// Fills `storage` with the sockaddr_in/sockaddr_in6 for `endpoint` and
// returns its length.
socklen_t to_sockaddr(const Endpoint& endpoint, sockaddr_storage& storage);

// Non-blocking stream/datagram socket connecting to `to`. Returns the fd and
// 0, or -EINPROGRESS for a connect still under way (wait for writability,
// then connect_result()), or an invalid fd and -errno.
std::pair<Fd, int> connect_nonblocking(int type, const Endpoint& to);
// After writability of a connecting socket: 0 or -errno (SO_ERROR).
int connect_result(int fd);

// Listening sockets (non-blocking, close-on-exec). Throw std::system_error
// with a message naming the address on failure.
Fd listen_tcp(const Endpoint& at, int backlog = 512);
// path with a leading '@' is an abstract socket.
Fd listen_unix(const std::string& path, int backlog = 512);
Fd connect_unix_blocking(const std::string& path);  // throws on failure
// Non-blocking connect to a UNIX stream socket ('@' first = abstract), as
// connect_nonblocking: the fd and 0 or -EINPROGRESS, or an invalid fd and
// -errno (-EAGAIN: the listener's backlog is full; -ENAMETOOLONG: bad path).
std::pair<Fd, int> connect_unix_nonblocking(const std::string& path);

// accept4 non-blocking; invalid Fd and errno in *error when nothing to accept.
Fd accept_nonblocking(int listen_fd, int* error);

// Transfers: bytes moved, or -errno (-EAGAIN when it would block).
long recv_some(int fd, wire::MutableBytes into);
// One datagram: its full length (MSG_TRUNC; more than into.size() when it
// did not fit and was cut), or -errno.
long recv_datagram(int fd, wire::MutableBytes into);
long peek_some(int fd, wire::MutableBytes into);  // MSG_PEEK, honours SO_PEEK_OFF
// Peeks past the first skip.size() queued bytes (copied into skip and thrown
// away) for kernels without SO_PEEK_OFF on TCP (Linux < 6.9). Returns the
// bytes placed in `into`; 0 means nothing is queued past the skipped part.
long peek_after(int fd, wire::MutableBytes skip, wire::MutableBytes into);
long discard(int fd, std::size_t bytes);          // drops bytes from a TCP receive queue
long send_some(int fd, wire::Bytes data);         // MSG_NOSIGNAL
int shutdown_write(int fd);

// Options; each returns 0 or -errno.
int set_peek_offset(int fd, int offset);  // SO_PEEK_OFF
int set_no_delay(int fd);
int set_buffer_sizes(int fd, int send_bytes, int receive_bytes);
int set_linger_reset(int fd);  // close() then sends RST (SO_LINGER 0)

std::string error_text(int negative_errno);

// SCM_RIGHTS descriptor passing over a UNIX stream socket (the management
// protocol's OPENTUN and PROTECTFD). send_with_fd attaches `fd` (if >= 0) to
// the first byte sent; it sends without blocking: bytes sent or -errno.
long send_with_fd(int socket_fd, wire::Bytes data, int fd);
// Receives bytes without blocking and appends any descriptors that came with
// them to `fds` (close-on-exec; at most kMaxReceivedFds per call, extra ones
// the kernel had to drop are reported as MSG_CTRUNC by a -EMSGSIZE return
// only when no byte came). Bytes received (0 = end of stream) or -errno.
inline constexpr int kMaxReceivedFds = 8;
long receive_with_fds(int socket_fd, wire::MutableBytes into, std::vector<Fd>& fds);

// The peer's user id of a connected UNIX socket (SO_PEERCRED), or -1.
long peer_uid(int socket_fd);

}  // namespace rtether::io
