// PingSocket on Windows; see ping_socket.hpp. Windows has no ICMP sockets
// without admin rights: the echo socket is the relay's end of a loopback
// UDP pair whose worker sends each request through IP Helper
// (ping_worker.hpp) and writes the reply back as a ping socket delivers it
// on Linux (an ICMP message, identifier and checksum already right), so
// requests and replies pass through unchanged.
#include "io/ping_socket.hpp"

#include "io/windows/ping_worker.hpp"

namespace rtether::io {

Result<PingSocket> open_ping_socket(const Endpoint& to, const Outbound& from) {
  // IcmpSendEcho2Ex could take a source address, an interface not: until
  // both are carried to the worker, an egress choice is refused.
  if (!from.empty()) return std::make_error_code(std::errc::operation_not_supported);
  auto fd = open_emulated_ping(to);
  if (!fd) return fd.error();
  return PingSocket{std::move(*fd), {}};
}

const char* ping_forbidden_advice() {
  return "IP Helper refused an ICMP echo handle (IcmpCreateFile / Icmp6CreateFile; Wine 8 has "
         "none for IPv6)";
}

Result<std::size_t> send_echo(int fd, const EchoMode&, wire::Bytes request) {
  return send_some(fd, request);
}

Result<std::size_t> receive_echo(int fd, const EchoMode&, wire::MutableBytes into) {
  return recv_datagram(fd, into);
}

}  // namespace rtether::io
