// UdpFlow: see udp_flow.hpp.
#include "relay/udp_flow.hpp"

#include <algorithm>
#include <cstring>

#include "io/log.hpp"
#include "relay/address_map.hpp"
#include "relay/flow_context.hpp"
#include "relay/icmp_error_sender.hpp"
#include "wire/socks5_udp.hpp"
#include "wire/transport.hpp"

namespace rtether::relay {

namespace {
// Largest UDP payload toward the device: what fits in a packet of at most
// 65535 bytes in all (the largest IPv4 packet; the relay never sends the
// device a bigger packet of either version), so 65507 over IPv4 and 65487
// over IPv6; IPv6 jumbograms are not carried.
std::size_t max_udp_payload(wire::IpVersion version) {
  return wire::kMaxPacket - wire::udp_header_size(version);
}
}  // namespace

UdpFlow::UdpFlow(FlowContext& context, const FlowKey& key)
    : DatagramFlow(context, key, context.config().udp_idle_timeout,
                   wire::udp_header_size(key.destination.version),
                   max_udp_payload(key.destination.version)) {
  header_ = header_toward_device<wire::UdpDatagramHeader>(key);
}

std::error_code UdpFlow::open() {
  io::Endpoint target{host_destination(key_.destination), key_.destination_port};
  if (context_.config().proxy && context_.config().proxy->carries_udp()) {
    association_ = std::make_unique<Socks5UdpAssociation>(
        context_,
        Socks5UdpAssociation::Callbacks{
            [this](const io::Endpoint& relay) { on_associated(relay); },
            [this](std::uint64_t&, const std::string& why) { on_association_ended(why); }});
    return association_->open();
  }
  auto connection = io::connect_nonblocking(io::Transport::Udp, target, context_.outbound());
  if (!connection) {
    log::debug("{}: cannot open: {}", key_.to_string(), connection.error().message());
    return connection.error();
  }
  socket_ = std::move(connection->fd);
  start();
  return {};
}

void UdpFlow::on_associated(const io::Endpoint& relay) {
  if (retired_) return;
  auto connection = io::connect_nonblocking(io::Transport::Udp, relay, context_.outbound());
  if (!connection) return on_association_ended(connection.error().message());
  socket_ = std::move(connection->fd);
  ++context_.counters().proxy_udp_associations;
  start();
  for (const auto& datagram : early_datagrams_) send_to_host(datagram);
  early_datagrams_.clear();
  early_datagrams_.shrink_to_fit();
}

void UdpFlow::on_association_ended(const std::string& why) {
  if (retired_) return;
  log::debug("{}: proxy UDP association: {}", key_.to_string(), why);
  if (!quote_.bytes().empty())
    context_.icmp_errors().send(wire::IcmpErrorKind::AdminProhibited, 0, key_.destination,
                                key_.source, quote_.bytes());
  finish();
}

void UdpFlow::adopt(io::Fd socket, const io::Endpoint& peer) {
  socket_ = std::move(socket);
  forward_peer_ = peer;
  start();
}

bool UdpFlow::serves_forward_peer(const io::Endpoint& peer) const {
  return !retired_ && forward_peer_ && forward_peer_->port == peer.port &&
         forward_peer_->address == peer.address;
}

void UdpFlow::start() {
  // The host socket's own family: a forward bound to an IPv6 address
  // carries an IPv4 device's datagrams.
  io::enable_error_queue(socket_.get());
  watch_socket();
}

void UdpFlow::on_device_packet(const wire::IpPacket& packet) {
  if (retired_) return;
  auto udp = wire::UdpView::parse(packet.payload);
  if (!udp) {
    ++context_.counters().drop_bad_transport;
    return;
  }
  touch();
  quote_.remember(packet);
  if (association_ && !association_->associated()) {
    if (early_datagrams_.size() >= kMaxEarlyDatagrams) {
      ++context_.counters().proxy_udp_early_drops;
      return;
    }
    early_datagrams_.emplace_back(udp->payload().begin(), udp->payload().end());
    return;
  }
  send_to_host(udp->payload());
}

void UdpFlow::send_to_host(wire::Bytes payload) {
  if (association_) {
    // RFC 1928 7: the header names the destination, the proxy sends the
    // data on to it.
    const wire::Socks5Address destination{host_destination(key_.destination),
                                          key_.destination_port};
    const std::size_t header = wire::socks5_udp_header_size(destination.address.version);
    send_buffer_.resize(header + payload.size());
    wire::write_socks5_udp_header(send_buffer_, destination);
    std::copy(payload.begin(), payload.end(), send_buffer_.begin() + static_cast<long>(header));
    payload = send_buffer_;
  }
  auto sent = io::send_some(socket_.get(), payload);
  if (!sent) {
    // "Connection refused" reports an earlier ICMP port unreachable (already
    // sent on to the device); the datagram is not retried (UDP semantics).
    ++context_.counters().drop_udp_send;
    log::debug("{}: send failed: {}", key_.to_string(), sent.error().message());
    if (sent.error() != std::errc::connection_refused)
      report_send_failure(context_, socket_.get(), key_, quote_, sent.error());
  }
}

void UdpFlow::on_ready(io::Readiness readiness) {
  if (retired_) return;
  if (readiness.error) report_host_errors(context_, socket_.get(), key_, quote_);
  if (readiness.readable || readiness.error) readable_ = true;
  pump();
}

io::Result<std::size_t> UdpFlow::receive(wire::MutableBytes into) {
  return io::recv_datagram(socket_.get(), into);
}

std::optional<std::size_t> UdpFlow::unwrap_proxied(wire::MutableBytes room, std::size_t length) {
  const std::size_t header_room = wire::udp_header_size(header_.source.version);
  if (length > max_datagram_) return length;  // cut by the read: too big either way
  auto datagram = wire::parse_socks5_udp(room.subspan(header_room, length));
  const io::Endpoint destination{host_destination(key_.destination), key_.destination_port};
  if (!datagram || datagram->peer.address != destination.address ||
      datagram->peer.port != destination.port)
    return std::nullopt;
  // The payload moves to where the device packet's payload starts.
  std::memmove(room.data() + header_room, datagram->payload.data(), datagram->payload.size());
  return datagram->payload.size();
}

std::size_t UdpFlow::frame(wire::MutableBytes room, std::size_t length) {
  touch();  // any datagram from the peer, even one too big to carry
  if (association_) {
    // Only the destination's datagrams, as a connected socket would have it.
    const auto unwrapped = unwrap_proxied(room, length);
    if (!unwrapped) {
      ++context_.counters().proxy_udp_bad_datagrams;
      return 0;
    }
    length = *unwrapped;
  }
  if (length > max_datagram_) {
    // Too big for one device-side packet (say an IPv6 host peer's toward
    // an IPv4 device): the read cut it; dropped whole, not delivered short.
    ++context_.counters().drop_udp_too_big;
    return 0;
  }
  return wire::write_udp_headers(room, header_, length, context_.checksums());
}

void UdpFlow::send_to_device(wire::Bytes payload) {
  if (retired_) return;
  if (payload.size() > max_datagram_) {
    ++context_.counters().drop_udp_too_big;
    return;
  }
  std::size_t header_size = wire::udp_header_size(header_.source.version);
  auto room = context_.reserve(header_size + payload.size(), false);
  if (room.empty()) {
    ++context_.counters().drop_output_full;
    return;
  }
  touch();
  const std::size_t length = wire::build_udp(room, header_, payload, context_.checksums());
  if (length == 0) {
    ++context_.counters().drop_udp_too_big;
    return;
  }
  context_.commit(length);
}

}  // namespace rtether::relay
