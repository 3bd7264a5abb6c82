// Winsock in io/'s terms, internal to io/windows/: SOCKET handles carried
// as int fds (a kernel handle has 32 significant bits, "Interprocess
// Communication Between 32-bit and 64-bit Applications" in Microsoft's
// docs), and Winsock error codes as std::error_code values that compare
// equal to the std::errc conditions the Linux backend gives (mingw's
// system_category knows no WSA code), so relay/ tests one condition on
// both.
#pragma once

#include <winsock2.h>
#include <ws2tcpip.h>

#include <system_error>

#include "io/socket.hpp"

namespace rtether::io {

inline SOCKET to_socket(int fd) {
  return fd < 0 ? INVALID_SOCKET : static_cast<SOCKET>(static_cast<unsigned>(fd));
}
inline int to_fd(SOCKET socket) {
  return socket == INVALID_SOCKET ? -1 : static_cast<int>(static_cast<unsigned>(socket));
}

// WSA* codes (and the Win32 codes WSAGetLastError may return): messages
// from FormatMessage, conditions from the table in winsock.cpp.
const std::error_category& winsock_category();

inline std::error_code winsock_error(int code) { return {code, winsock_category()}; }
inline std::error_code last_winsock_error() { return winsock_error(::WSAGetLastError()); }

// A non-blocking socket whose handle child processes do not inherit
// (WSA_FLAG_NO_HANDLE_INHERIT, the close-on-exec of Windows). A UDP socket
// starts with SIO_UDP_CONNRESET off, as a Linux socket without IP_RECVERR
// that no port unreachable disturbs; enable_error_queue turns it on.
Result<Fd> open_socket(int family, int type, int protocol);

// SIO_UDP_CONNRESET off (open_socket's default for UDP). Defined in
// socket_errors.cpp.
std::error_code disable_udp_connection_reset(int fd);

// What io/windows/ keeps per socket beside Winsock (the emulated error
// queue, a ping worker), dropped by Fd::reset before closesocket so that a
// reused handle value starts clean. Defined in socket_errors.cpp.
void forget_socket_state(int fd);

// What a receive that failed with WSAECONNRESET reports: on a UDP socket
// with the error queue on (SIO_UDP_CONNRESET: an ICMP port unreachable came
// back), a SocketError queued for read_error_queue and connection_refused,
// as Linux says; `error` unchanged on any other socket.
std::error_code queued_udp_reset(int fd, std::error_code error);

}  // namespace rtether::io
