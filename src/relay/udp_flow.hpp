// UdpFlow: one device UDP association (source address/port to destination
// address/port) bridged to one connected host UDP socket. Datagram
// boundaries are kept both ways; replies are read only when the client's
// output queue has room for a whole datagram. Expires after
// config.udp_idle_timeout without traffic either way.
// ICMP errors the host socket receives (IP_RECVERR: port unreachable, too
// big, ...) go back to the device quoting its last datagram, so that a
// connected device socket sees ECONNREFUSED as it would on a real network.
// A forwarded association (rtether relay --forward udp:...) adopts a socket
// bound to the forward's host port and connected to the host peer.
// Through a SOCKS5 proxy (config.proxy) the flow first opens a
// Socks5UdpAssociation; its socket is then connected to the proxy's relay
// address, every datagram carries the RFC 1928 7 header (wire/socks5_udp),
// and only datagrams from the flow's destination reach the device. Up to
// kMaxEarlyDatagrams device datagrams wait for the association; more are
// counted drops (proxy_udp_early_drops). A failed or ended association is
// an ICMP "administratively prohibited" to the device and ends the flow.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "relay/datagram_flow.hpp"
#include "relay/socks5_udp_association.hpp"
#include "wire/packet_builder.hpp"

namespace rtether::relay {

class UdpFlow final : public DatagramFlow {
 public:
  UdpFlow(FlowContext& context, const FlowKey& key);

  // Creates and connects the host socket; on an error nothing is registered.
  std::error_code open();
  // Takes an already bound and connected socket (port forwarding) whose
  // host peer is `peer`.
  void adopt(io::Fd socket, const io::Endpoint& peer);
  // A forwarded association of exactly this host peer (and not retired).
  bool serves_forward_peer(const io::Endpoint& peer) const;
  // A datagram read elsewhere (a forward's listening socket) to the device;
  // dropped and counted when the output queue has no room.
  void send_to_device(wire::Bytes payload);

  void on_device_packet(const wire::IpPacket& packet) override;
  void on_ready(io::Readiness readiness) override;

 private:
  io::Result<std::size_t> receive(wire::MutableBytes into) override;
  std::size_t frame(wire::MutableBytes room, std::size_t length) override;
  void start();
  void on_associated(const io::Endpoint& relay);
  void on_association_ended(const std::string& why);
  void send_to_host(wire::Bytes payload);
  // The payload's length, moved to the device packet's payload offset;
  // nullopt for a malformed datagram or one not from the destination.
  std::optional<std::size_t> unwrap_proxied(wire::MutableBytes room, std::size_t length);

  static constexpr std::size_t kMaxEarlyDatagrams = 8;

  std::optional<io::Endpoint> forward_peer_;  // set by adopt()
  // Through a SOCKS5 proxy only.
  std::unique_ptr<Socks5UdpAssociation> association_;
  std::vector<std::vector<std::uint8_t>> early_datagrams_;
  std::vector<std::uint8_t> send_buffer_;
  wire::UdpDatagramHeader header_;  // toward the device
};

}  // namespace rtether::relay
