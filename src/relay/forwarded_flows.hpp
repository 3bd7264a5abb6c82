// ForwardedFlows: the host -> device side of one client session (port
// forwarding, see port_forwarder.hpp). Opens flows toward the device from
// the host alias (10.0.2.2) and a relay-side port of the IANA dynamic range,
// taken in turn from a random start (after a reconnect the device may still
// hold the previous session's connections on the first ports).
//
// On a multi-queue tun (QueueSlot) a session only takes the ports whose
// flow the device's kernel steers to its own queue: one in `count`.
//
// The device's own address, where forwarded flows go, is learned from the
// source of its packets: the last unicast one of each IP version, 10.0.0.2
// and fd00::2 (what Gnirehtet's app and the Linux client configure) until it
// has sent any.
#pragma once

#include <cstdint>
#include <optional>

#include "io/socket.hpp"
#include "relay/flow_key.hpp"
#include "wire/bytes.hpp"
#include "wire/ip_address.hpp"

namespace rtether::relay {

class FlowContext;

class ForwardedFlows {
 public:
  // first_port: offset of the first relay-side port tried (0..16383).
  // `queue`: the session's queue of a multi-queue tun (flow_key.hpp): only
  // relay-side ports whose flows the device's kernel steers back to it.
  ForwardedFlows(FlowContext& context, std::uint16_t first_port, QueueSlot queue = {});

  // A source address of a device packet that passed validation.
  void learn_device_source(const wire::IpAddress& source);
  wire::IpAddress device_address(wire::IpVersion version) const;

  // A host connection accepted by TCP forward `forward_id` (a PortForwarder
  // id, from 1): the relay opens a TCP connection to device_port (it sends
  // the SYN) and bridges the two.
  // False (the socket is reset) when the session is closed, no relay-side
  // port is free or the flow limit is reached (counted).
  bool open_tcp(io::Fd accepted, std::uint16_t device_port, std::uint32_t forward_id);
  // A host peer's first datagram to a UDP forward: `socket` is bound to the
  // forward's port and connected to `peer`; `datagram` goes to the device
  // now, later ones arrive on `socket`. Returns the new flow's key (for
  // deliver_udp), nullopt when refused (counted).
  std::optional<FlowKey> open_udp(io::Fd socket, const io::Endpoint& peer,
                                  std::uint16_t device_port, std::uint32_t forward_id,
                                  wire::Bytes datagram);
  // A datagram from `peer` that reached the forward's listening socket, for
  // the association opened for it under `key`; false (nothing sent) when
  // that flow is gone or the key now belongs to another flow (the port was
  // reused for another peer, or it is not a forwarded flow at all).
  bool deliver_udp(const FlowKey& key, const io::Endpoint& peer, wire::Bytes datagram);
  // Forward `forward_id` was removed: its flows end (TCP: reset both ways;
  // UDP: the host socket closes, so the peer's next datagram meets a closed
  // port), logged with their number.
  void close_forward(std::uint32_t forward_id);

 private:
  // A relay-side key for a forwarded flow to device_port; nullopt (counted)
  // when none is free.
  std::optional<FlowKey> free_key(std::uint16_t device_port, std::uint8_t protocol);

  FlowContext& context_;
  std::uint16_t next_port_;
  QueueSlot queue_;
  std::optional<wire::IpAddress> device_v4_;
  std::optional<wire::IpAddress> device_v6_;
};

}  // namespace rtether::relay
