// Outbound: where the relay's host sockets leave from (`--outbound-address`,
// `--outbound-interface`), for every socket it opens toward a destination
// (TCP, UDP, ICMP echo). An address of the destination's IP version is the
// source (bound before connect, the port left to connect: Linux's
// IP_BIND_ADDRESS_NO_PORT, so many connections from one address do not
// exhaust its ephemeral ports); an interface binds the socket to it
// (Linux SO_BINDTODEVICE, which needs CAP_NET_RAW before Linux 5.7 and to
// rebind a socket; Windows
// IP_UNICAST_IF/IPV6_UNICAST_IF). A destination of a version with no
// address leaves from the host's default choice (or the interface's).
#pragma once

#include <optional>
#include <string>
#include <system_error>

#include "io/result.hpp"
#include "io/socket.hpp"

namespace rtether::io {

struct Outbound {
  std::optional<wire::IpAddress> address_v4;
  std::optional<wire::IpAddress> address_v6;
  std::string interface_name;  // empty: any (not `interface`: a macro of Windows headers)

  bool empty() const { return !address_v4 && !address_v6 && interface_name.empty(); }
  const std::optional<wire::IpAddress>& address_for(wire::IpVersion version) const {
    return version == wire::IpVersion::V4 ? address_v4 : address_v6;
  }
};

// What applying `outbound` to a fresh socket failed on.
struct OutboundError {
  enum class Step { Interface, Address };
  Step step = Step::Address;
  std::error_code error;
};

// Applies `outbound` to a fresh, unconnected socket of `version`.
std::optional<OutboundError> apply_outbound(int fd, wire::IpVersion version,
                                            const Outbound& outbound);

// As connect_nonblocking(transport, to) (which is this with an empty
// Outbound), leaving from `from`; the error of apply_outbound when that
// fails. Echo sockets take theirs in open_ping_socket (ping_socket.hpp).
Result<Connection> connect_nonblocking(Transport transport, const Endpoint& to,
                                       const Outbound& from);

// Start-up check: applies `outbound` to a throw-away TCP socket of each
// version it names an address for (IPv4 for an interface alone); the first
// failure, for a message that names the option (an address not on this
// host, an unknown interface, CAP_NET_RAW missing).
std::optional<OutboundError> check_outbound(const Outbound& outbound);

}  // namespace rtether::io
