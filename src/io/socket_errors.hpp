// The socket error queue: what the host kernel learns from ICMP errors
// (IP_RECVERR / IPV6_RECVERR), read as plain values so that relay/ can
// answer the device without OS headers. Echo sockets: io/ping_socket.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <system_error>

#include "io/socket.hpp"

namespace rtether::io {

// The IP version of a socket (its SO_DOMAIN), nullopt when neither.
std::optional<wire::IpVersion> socket_version(int fd);

// IP_RECVERR or IPV6_RECVERR, after the socket's own family, on a datagram
// socket.
std::error_code enable_error_queue(int fd);

// One entry of the error queue (struct sock_extended_err).
struct SocketError {
  std::error_code error;    // e.g. connection_refused, message_size
  bool from_icmp = false;   // an ICMP/ICMPv6 message caused it (type/code valid)
  bool icmp_v6 = false;
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  std::uint32_t info = 0;   // the MTU for "too big" and local EMSGSIZE
};
// The next queued error (MSG_ERRQUEUE), nullopt when the queue is empty.
std::optional<SocketError> read_error_queue(int fd);

// The kernel's path MTU for a connected socket (IP_MTU or IPV6_MTU after
// the socket's family), or 0.
std::uint32_t path_mtu(int fd);

}  // namespace rtether::io
