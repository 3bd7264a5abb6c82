// ClientSession, port forwarding part: forwarded TCP and UDP flows toward
// the device, keyed from the host alias and a relay-side port. See
// client_session.hpp and port_forwarder.hpp.
#include "relay/client_session.hpp"
#include "relay/tcp_flow.hpp"
#include "relay/udp_flow.hpp"
#include "wire/gnirehtet.hpp"

namespace rtether::relay {

namespace {
// Relay-side ports of forwarded flows: the IANA dynamic range (RFC 6335 6).
constexpr std::uint16_t kForwardPortFirst = 49152;
constexpr std::uint32_t kForwardPortCount = 65536 - kForwardPortFirst;
// Ports tried per new forwarded flow before giving up (counted).
constexpr int kForwardPortAttempts = 64;
}  // namespace

wire::IpAddress ClientSession::device_address(wire::IpVersion version) const {
  // Until the device sends a packet: what Gnirehtet's app and the Linux
  // client configure.
  if (version == wire::IpVersion::V4) return device_v4_.value_or(wire::gnirehtet::kDeviceAddressV4);
  return device_v6_.value_or(wire::gnirehtet::kDeviceAddressV6);
}

std::optional<FlowKey> ClientSession::forward_key(std::uint16_t device_port, std::uint8_t protocol) {
  // Forwarded flows reach the device over IPv4, which every device has
  // (Gnirehtet's app configures no IPv6), from the host alias.
  FlowKey key;
  key.source = device_address(wire::IpVersion::V4);
  key.destination = wire::gnirehtet::kHostLoopbackAliasV4;
  key.source_port = device_port;
  key.protocol = protocol;
  for (int attempt = 0; attempt < kForwardPortAttempts; ++attempt) {
    key.destination_port = static_cast<std::uint16_t>(kForwardPortFirst + next_forward_port_);
    next_forward_port_ = static_cast<std::uint16_t>((next_forward_port_ + 1) % kForwardPortCount);
    if (flows_.find(key) == flows_.end()) return key;
  }
  ++counters_.drop_forward_no_port;
  return std::nullopt;
}

bool ClientSession::open_forwarded_tcp(io::Fd accepted, std::uint16_t device_port) {
  // Refused: the host application sees a reset, not a clean end.
  auto refuse = [&accepted] {
    io::set_linger_reset(accepted.get());
    return false;
  };
  if (closed_) return refuse();
  if (live_flow_count() >= config_.max_flows_per_client) {
    ++counters_.drop_flow_limit;
    return refuse();
  }
  auto key = forward_key(device_port, wire::ip_protocol::kTcp);
  if (!key) return refuse();
  auto flow = std::make_unique<TcpFlow>(*this, *key, std::move(accepted));
  auto* raw = flow.get();
  flows_.emplace(*key, std::move(flow));
  ++counters_.forward_tcp_opened;
  raw->start_forwarded();
  return true;
}

std::optional<FlowKey> ClientSession::open_forwarded_udp(io::Fd socket, const io::Endpoint& peer,
                                                         std::uint16_t device_port,
                                                         wire::Bytes datagram) {
  if (closed_) return std::nullopt;
  if (live_flow_count() >= config_.max_flows_per_client) {
    ++counters_.drop_flow_limit;
    return std::nullopt;
  }
  auto key = forward_key(device_port, wire::ip_protocol::kUdp);
  if (!key) return std::nullopt;
  auto flow = std::make_unique<UdpFlow>(*this, *key);
  auto* raw = flow.get();
  flows_.emplace(*key, std::move(flow));
  ++counters_.forward_udp_opened;
  raw->adopt(std::move(socket), peer);
  raw->send_to_device(datagram);
  return key;
}

bool ClientSession::forward_udp_datagram(const FlowKey& key, const io::Endpoint& peer,
                                         wire::Bytes datagram) {
  auto found = flows_.find(key);
  if (found == flows_.end() || key.protocol != wire::ip_protocol::kUdp) return false;
  auto* flow = static_cast<UdpFlow*>(found->second.get());
  if (!flow->serves_forward_peer(peer)) return false;
  flow->send_to_device(datagram);
  return true;
}

}  // namespace rtether::relay
