// IcmpFlow: ICMP/ICMPv6 echo (ping) of one device identifier toward one
// destination, through the host's echo socket (io::open_ping_socket: an
// unprivileged ping socket, so the relay needs no root; a raw ICMP socket
// where ping_group_range forbids those and the relay has CAP_NET_RAW; the
// flow cannot tell them apart).
//
// Key: (device address, destination, echo identifier in source_port, 0,
// ICMP or ICMPv6). The socket replaces the identifier of each request with
// its own; replies get the device's identifier back, with the
// checksum recomputed. Errors the host receives for the requests (IP_RECVERR)
// go back to the device as ICMP errors quoting its last request.
// Replies are read only when the client's output queue has room (pull, as
// for UDP). Expires after config.icmp_idle_timeout without traffic.
#pragma once

#include "io/ping_socket.hpp"
#include "relay/datagram_flow.hpp"
#include "wire/packet_builder.hpp"

namespace rtether::relay {

class IcmpFlow final : public DatagramFlow {
 public:
  IcmpFlow(FlowContext& context, const FlowKey& key);

  // Opens the ping socket; on an error nothing is registered.
  std::error_code open();

  void on_device_packet(const wire::IpPacket& packet) override;
  void on_ready(io::Readiness readiness) override;

 private:
  io::Result<std::size_t> receive(wire::MutableBytes into) override;
  std::size_t frame(wire::MutableBytes room, std::size_t length) override;

  io::EchoMode echo_mode_;
};

}  // namespace rtether::relay
