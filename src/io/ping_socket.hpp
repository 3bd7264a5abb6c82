// PingSocket: the host's ICMP echo socket for one relay ping flow, the same
// to its user whatever the kernel allows.
//
// - A ping socket (SOCK_DGRAM of IPPROTO_ICMP / IPPROTO_ICMPV6) where
//   net.ipv4.ping_group_range lets our group open one: the kernel picks the
//   identifier, writes it and the checksum into each request and hands the
//   socket only the replies carrying it.
// - Else, with CAP_NET_RAW, a raw ICMP socket (raw(7); IPv6: RFC 3542 3):
//   it sees every echo reply from its destination, IPv4 ones behind their
//   IP header. This process then gives the socket an identifier of its own
//   (distinct among its raw echo sockets, so two devices pinging one host
//   with the same identifier get their own replies), writes it (and the
//   IPv4 checksum) into each request, and receive_echo passes only the
//   replies carrying it, without IP header: the ping socket's view.
// - Else socket() fails with permission_denied, as the ping socket did.
//
// Either way the socket is connected (replies from other hosts never reach
// it), non-blocking, with the error queue on, and the user rewrites each
// reply's identifier back to the device's (see relay/icmp_flow.hpp).
#pragma once

#include <cstdint>

#include "io/outbound.hpp"
#include "io/result.hpp"
#include "io/socket.hpp"
#include "wire/bytes.hpp"

namespace rtether::io {

// How an echo socket's messages are written and read.
struct EchoMode {
  bool raw = false;              // a raw ICMP socket, not a ping socket
  std::uint16_t identifier = 0;  // raw only: the identifier of its requests
  bool v4 = true;                // raw only: ICMP over IPv4 (else ICMPv6)
};

struct PingSocket {
  Fd fd;
  EchoMode mode;
};

// Opens the echo socket toward `to` (port ignored), leaving from `from`
// (outbound.hpp). Errors: permission_denied when neither a ping socket
// (ping_group_range) nor a raw one (no CAP_NET_RAW) may be opened,
// operation_not_permitted for a broadcast destination, apply_outbound's
// error. On Windows (IP Helper) an egress choice is not supported yet:
// operation_not_supported.
Result<PingSocket> open_ping_socket(const Endpoint& to, const Outbound& from = {});

// Why open_ping_socket said permission_denied and what the user can do,
// for a log line: on Linux ping_group_range and CAP_NET_RAW, on Windows IP
// Helper's refusal.
const char* ping_forbidden_advice();

// Sends one echo request, an ICMP message as the device wrote it (at least
// its 8-byte header); identifier and checksum are the socket's own.
Result<std::size_t> send_echo(int fd, const EchoMode& mode, wire::Bytes request);

// Reads the next echo reply for this socket into `into`, as an ICMP message:
// its length (more than into.size() when cut), or the error (would_block()
// when none waits). Raw sockets skip other identifiers' replies and IPv4
// ones with a bad checksum (the kernel checks neither for raw sockets); after
// many such in one call they give up with std::errc::interrupted: more may
// be queued, so the caller reads again later (an edge-triggered reader is
// not woken again for what is already queued).
Result<std::size_t> receive_echo(int fd, const EchoMode& mode, wire::MutableBytes into);

}  // namespace rtether::io
