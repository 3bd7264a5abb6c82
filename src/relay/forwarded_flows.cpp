// ForwardedFlows: see forwarded_flows.hpp.
#include "relay/forwarded_flows.hpp"

#include "io/log.hpp"
#include "relay/flow_context.hpp"
#include "relay/flow_table.hpp"
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

// A source address that can be the device's own (where forwarded flows go):
// unicast and specified, not loopback nor link-local. 0.0.0.0 or :: (a DHCP
// or DAD probe), a spoofed multicast source or fe80:: say nothing about it.
bool is_device_unicast(const wire::IpAddress& address) {
  if (wire::is_broadcast_or_multicast(address)) return false;
  const auto& b = address.bytes;
  if (address.version == wire::IpVersion::V4) {
    if (b[0] == 0 || b[0] == 127) return false;  // "this network", loopback
    if (b[0] == 169 && b[1] == 254) return false;  // link-local
    return (b[0] >> 4) != 0xF;                      // 240.0.0.0/4 reserved
  }
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return false;  // fe80::/10 link-local
  // ::/96 (::, ::1, deprecated v4-compatible) and ::ffff:0:0/96 (v4-mapped).
  bool low_zero = true;
  for (int i = 0; i < 10; ++i) low_zero = low_zero && b[i] == 0;
  return !low_zero;
}
}  // namespace

ForwardedFlows::ForwardedFlows(FlowContext& context, std::uint16_t first_port, QueueSlot queue)
    : context_(context),
      next_port_(static_cast<std::uint16_t>(first_port % kForwardPortCount)),
      queue_(queue) {}

void ForwardedFlows::learn_device_source(const wire::IpAddress& source) {
  if (is_device_unicast(source))
    (source.version == wire::IpVersion::V4 ? device_v4_ : device_v6_) = source;
}

wire::IpAddress ForwardedFlows::device_address(wire::IpVersion version) const {
  // Until the device sends a packet: what Gnirehtet's app and the Linux
  // client configure.
  if (version == wire::IpVersion::V4)
    return device_v4_.value_or(wire::gnirehtet::kDeviceAddressV4);
  return device_v6_.value_or(wire::gnirehtet::kDeviceAddressV6);
}

std::optional<FlowKey> ForwardedFlows::free_key(std::uint16_t device_port, std::uint8_t protocol) {
  // Forwarded flows reach the device over IPv4, which every device has
  // (Gnirehtet's app configures no IPv6), from the host alias.
  FlowKey key;
  key.source = device_address(wire::IpVersion::V4);
  key.destination = wire::gnirehtet::kHostLoopbackAliasV4;
  key.source_port = device_port;
  key.protocol = protocol;
  // Ports of other queues are stepped over, not counted as attempts.
  int attempt = 0;
  for (std::uint32_t step = 0; step < kForwardPortCount && attempt < kForwardPortAttempts; ++step) {
    key.destination_port = static_cast<std::uint16_t>(kForwardPortFirst + next_port_);
    next_port_ = static_cast<std::uint16_t>((next_port_ + 1) % kForwardPortCount);
    if (!queue_.owns(key)) continue;
    if (!context_.flows().find(key)) return key;
    ++attempt;
  }
  ++context_.counters().drop_forward_no_port;
  return std::nullopt;
}

bool ForwardedFlows::open_tcp(io::Fd accepted, std::uint16_t device_port,
                              std::uint32_t forward_id) {
  // Refused: the host application sees a reset, not a clean end.
  auto refuse = [&accepted] {
    io::set_abort_on_close(accepted.get());
    return false;
  };
  FlowTable& flows = context_.flows();
  if (flows.closed()) return refuse();
  if (!flows.has_room()) {
    ++context_.counters().drop_flow_limit;
    return refuse();
  }
  auto key = free_key(device_port, wire::ip_protocol::kTcp);
  if (!key) return refuse();
  auto& flow = static_cast<TcpFlow&>(
      flows.insert(std::make_unique<TcpFlow>(context_, *key, std::move(accepted))));
  flow.set_forward_id(forward_id);
  ++context_.counters().forward_tcp_opened;
  flow.start_forwarded();
  return true;
}

std::optional<FlowKey> ForwardedFlows::open_udp(io::Fd socket, const io::Endpoint& peer,
                                                std::uint16_t device_port,
                                                std::uint32_t forward_id, wire::Bytes datagram) {
  FlowTable& flows = context_.flows();
  if (flows.closed()) return std::nullopt;
  if (!flows.has_room()) {
    ++context_.counters().drop_flow_limit;
    return std::nullopt;
  }
  auto key = free_key(device_port, wire::ip_protocol::kUdp);
  if (!key) return std::nullopt;
  auto& flow = static_cast<UdpFlow&>(flows.insert(std::make_unique<UdpFlow>(context_, *key)));
  flow.set_forward_id(forward_id);
  ++context_.counters().forward_udp_opened;
  flow.adopt(std::move(socket), peer);
  flow.send_to_device(datagram);
  return key;
}

bool ForwardedFlows::deliver_udp(const FlowKey& key, const io::Endpoint& peer,
                                 wire::Bytes datagram) {
  Flow* found = context_.flows().find(key);
  if (!found || key.protocol != wire::ip_protocol::kUdp) return false;
  auto* flow = static_cast<UdpFlow*>(found);
  if (!flow->serves_forward_peer(peer)) return false;
  flow->send_to_device(datagram);
  return true;
}

void ForwardedFlows::close_forward(std::uint32_t forward_id) {
  std::size_t tcp = 0;
  std::size_t udp = 0;
  context_.flows().abort_matching([forward_id, &tcp, &udp](const Flow& flow) {
    if (flow.forward_id() != forward_id) return false;
    ++(flow.key().protocol == wire::ip_protocol::kTcp ? tcp : udp);
    return true;
  });
  // UDP has no reset, and an ICMP error of our own would need a raw socket:
  // the host peer learns of it from its next datagram, which meets a closed
  // port (the kernel answers ICMP port unreachable, ECONNREFUSED on a
  // connected socket).
  if (tcp + udp > 0)
    log::info("forward {} removed: {} TCP connection(s) reset, {} UDP peer(s) closed (a peer's "
              "next datagram gets ICMP port unreachable)",
              forward_id, tcp, udp);
}

}  // namespace rtether::relay
