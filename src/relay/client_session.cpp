// ClientSession: framing, dispatch and the output queue; see the header.
#include "relay/client_session.hpp"

#include <sys/epoll.h>

#include <algorithm>

#include "io/log.hpp"
#include "relay/error_quote.hpp"
#include "relay/tcp_flow.hpp"
#include "relay/udp_flow.hpp"
#include "tcp/reset_reply.hpp"
#include "wire/icmp_error.hpp"
#include "wire/packet_builder.hpp"
#include "wire/transport.hpp"

namespace rtether::relay {

namespace {
// Above this many queued bytes a flow's commit sends at once instead of
// waiting for the end of the loop iteration: keeps the pipe to the client full.
constexpr std::size_t kEagerFlushBytes = 128 * 1024;
constexpr int kClientSocketBuffer = 4 * 1024 * 1024;  // as the Linux client asks on its side

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

ClientSession::ClientSession(io::EventLoop& loop, io::Fd socket, std::uint32_t id,
                             const RelayConfig& config, ClosedCallback on_closed)
    : loop_(loop),
      socket_(std::move(socket)),
      id_(id),
      config_(config),
      on_closed_(std::move(on_closed)),
      output_(config.output_capacity, ByteQueue::WhenEmpty::Keep),
      random_(std::random_device{}()) {
  // Forwarded flows start at a random relay-side port (of the 16384 in
  // 49152..65535): after a reconnect the device may still hold the previous
  // session's connections on the first ports.
  next_forward_port_ = static_cast<std::uint16_t>(random_() % 16384);
}

ClientSession::~ClientSession() {
  *alive_ = false;
  close("session destroyed");
}

void ClientSession::start() {
  io::set_no_delay(socket_.get());
  // Room for several maximal packets in the kernel too, so a flush rarely
  // meets EAGAIN and the relay rarely waits for EPOLLOUT (capped by
  // net.core.wmem_max/rmem_max; kernel memory, used only while full).
  io::set_buffer_sizes(socket_.get(), kClientSocketBuffer, kClientSocketBuffer);
  std::uint8_t id_bytes[4];
  wire::store_be32(id_bytes, id_);
  // The socket is fresh: its send buffer takes 4 bytes at once.
  io::send_some(socket_.get(), wire::Bytes{id_bytes, 4});
  loop_.add(socket_.get(), EPOLLIN | EPOLLOUT | EPOLLRDHUP, this);
}

void ClientSession::on_ready(std::uint32_t events) {
  if (closed_) return;
  if (events & EPOLLOUT) {
    output_blocked_ = false;
    flush();
    wake_waiting();
  }
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) client_hung_up_ = true;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) read_client();
}

void ClientSession::read_client() {
  for (int reads = 0; reads < config_.client_read_budget; ++reads) {
    if (closed_) return;
    auto room = framer_.writable();
    long got = io::recv_some(socket_.get(), room);
    if (got == -EAGAIN) return;
    if (got == 0) return close("client disconnected");
    if (got < 0) return close("client socket error");
    framer_.commit(static_cast<std::size_t>(got));
    while (auto packet = framer_.next()) {
      handle_packet(*packet);
      if (closed_) return;
    }
    if (framer_.failed()) {
      log::warn("client {}: stream cannot be framed ({}), closing", id_,
                wire::to_string(framer_.error()));
      return close("bad stream");
    }
    // A short read drained the socket; more data brings a new edge. After a
    // hang-up no edge follows, so read on to the end of the stream.
    if (static_cast<std::size_t>(got) < room.size() && !client_hung_up_) return;
  }
  // Budget used up with data left: come back after other handlers ran
  // (edge-triggered, so no new event would tell us).
  if (!read_scheduled_) {
    read_scheduled_ = true;
    loop_.defer([this, alive = alive_] {
      if (!*alive) return;
      read_scheduled_ = false;
      read_client();
    });
  }
}

void ClientSession::handle_packet(wire::Bytes bytes) {
  ++counters_.packets_from_device;
  counters_.bytes_from_device += bytes.size();
  auto parsed = wire::parse_ip(bytes);
  if (!parsed.packet) {
    ++counters_.drop_bad_ip;
    log::debug("client {}: dropped packet: {}", id_, wire::to_string(parsed.error));
    return;
  }
  const auto& packet = *parsed.packet;
  if (packet.fragment) {
    ++counters_.drop_fragment;
    return;
  }
  // The device's address for forwarded flows: the source of its packets,
  // once one has passed validation and is a unicast address of its own.
  if (is_device_unicast(packet.source))
    (packet.version == wire::IpVersion::V4 ? device_v4_ : device_v6_) = packet.source;
  switch (packet.protocol) {
    case wire::ip_protocol::kTcp:
      return handle_tcp(packet);
    case wire::ip_protocol::kUdp:
      return handle_udp(packet);
    case wire::ip_protocol::kIcmp:
      if (packet.version == wire::IpVersion::V4) return handle_icmp(packet);
      ++counters_.drop_unknown_protocol;
      return;
    case wire::ip_protocol::kIcmpv6:
      if (packet.version == wire::IpVersion::V6) return handle_icmp(packet);
      ++counters_.drop_unknown_protocol;
      return;
    default:
      ++counters_.drop_unknown_protocol;
  }
}

void ClientSession::handle_tcp(const wire::IpPacket& packet) {
  auto tcp = wire::TcpView::parse(packet.payload);
  if (!tcp) {
    ++counters_.drop_bad_transport;
    return;
  }
  if (wire::is_broadcast_or_multicast(packet.destination)) {
    // RFC 1122 4.2.3.10: a SYN to a broadcast or multicast address is
    // discarded silently; no segment to one can belong to a connection, and
    // neither a reset nor an ICMP error may answer it.
    ++counters_.drop_tcp_not_unicast;
    return;
  }
  FlowKey key{packet.source, packet.destination, tcp->source_port(), tcp->destination_port(),
              wire::ip_protocol::kTcp};
  std::uint8_t flags = tcp->flags();
  bool bare_syn = (flags & (wire::tcp_flag::kSyn | wire::tcp_flag::kAck | wire::tcp_flag::kRst)) ==
                  wire::tcp_flag::kSyn;
  auto found = flows_.find(key);
  if (found != flows_.end()) {
    if (!bare_syn || !found->second->replaceable_by_syn())
      return found->second->on_device_packet(packet);
    // The device reuses the 5-tuple of a connection in TIME-WAIT.
    found->second->shut_down();
  }

  // RFC 9293 3.10.7.1: only a bare SYN opens a connection; anything else for
  // an unknown connection is answered with a reset and creates no state.
  if (!bare_syn) {
    ++counters_.drop_no_flow;
    if (!(flags & wire::tcp_flag::kRst)) send_stateless_reset(packet);
    return;
  }
  if (live_flow_count() >= config_.max_flows_per_client) {
    ++counters_.drop_flow_limit;
    send_stateless_reset(packet);
    return;
  }
  auto flow = std::make_unique<TcpFlow>(*this, key, tcp::Segment::from(*tcp));
  auto* raw = flow.get();
  flows_.emplace(key, std::move(flow));
  ++counters_.tcp_flows_opened;
  raw->connect();
}

void ClientSession::handle_udp(const wire::IpPacket& packet) {
  auto udp = wire::UdpView::parse(packet.payload);
  if (!udp) {
    ++counters_.drop_bad_transport;
    return;
  }
  FlowKey key{packet.source, packet.destination, udp->source_port(), udp->destination_port(),
              wire::ip_protocol::kUdp};
  auto found = flows_.find(key);
  if (found == flows_.end()) {
    if (live_flow_count() >= config_.max_flows_per_client) {
      ++counters_.drop_flow_limit;
      return;
    }
    auto flow = std::make_unique<UdpFlow>(*this, key);
    if (int error = flow->open(); error != 0) {
      // No route (connect() of a datagram socket routes): tell the device
      // as a router would; the datagram is lost either way.
      ++counters_.drop_udp_send;
      auto kind = icmp_error_for(error);
      if (!kind || *kind == wire::IcmpErrorKind::PacketTooBig) return;
      if (!wire::may_report_error_for(packet.destination, *kind)) {
        ++counters_.drop_icmp_error_not_unicast;  // e.g. EACCES for 255.255.255.255
        return;
      }
      if (wire::may_answer_with_error(packet, *kind))
        send_icmp_error(*kind, 0, packet.destination, packet.source, packet.packet);
      return;
    }
    ++counters_.udp_flows_opened;
    found = flows_.emplace(key, std::move(flow)).first;
  }
  found->second->on_device_packet(packet);
}

void ClientSession::send_stateless_reset(const wire::IpPacket& packet) {
  auto tcp = wire::TcpView::parse(packet.payload);
  wire::TcpSegmentHeader header;
  header.source = packet.destination;
  header.destination = packet.source;
  header.source_port = tcp->destination_port();
  header.destination_port = tcp->source_port();
  const tcp::OutSegment reset = tcp::reset_reply(tcp::Segment::from(*tcp));
  header.seq = reset.seq.raw();
  header.ack = reset.ack.raw();
  header.flags = reset.flags;
  auto room = reserve(wire::tcp_header_size(header), true);
  if (room.empty()) return;
  commit(wire::write_tcp_headers(room, header, 0));
}

wire::MutableBytes ClientSession::reserve(std::size_t bytes, bool control) {
  if (closed_) return {};
  std::size_t limit = control ? 0 : config_.control_reserve;
  if (output_.free_space() < bytes + limit && !output_.empty()) flush();
  if (output_.free_space() < bytes + limit) {
    if (control) ++counters_.drop_output_full;
    return {};
  }
  return output_.reserve(bytes);
}

void ClientSession::commit(std::size_t bytes) {
  output_.commit(bytes);
  ++counters_.packets_to_device;
  counters_.bytes_to_device += bytes;
  if (output_.size() >= kEagerFlushBytes)
    flush();
  else
    schedule_flush();
}

void ClientSession::schedule_flush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  loop_.defer([this, alive = alive_] {
    if (!*alive) return;
    flush_scheduled_ = false;
    flush();
  });
}

void ClientSession::flush() {
  while (!output_.empty() && !output_blocked_ && !closed_) {
    long sent = io::send_some(socket_.get(), output_.front());
    if (sent == -EAGAIN) {
      output_blocked_ = true;  // EPOLLOUT (edge) will resume
      return;
    }
    if (sent < 0) return close("client socket error");
    output_.consume(static_cast<std::size_t>(sent));
  }
}

void ClientSession::wait_for_output(Flow* flow) {
  if (flow->waiting_) return;
  flow->waiting_ = true;
  flow->waiting_prev_ = waiting_tail_;
  flow->waiting_next_ = nullptr;
  if (waiting_tail_)
    waiting_tail_->waiting_next_ = flow;
  else
    waiting_head_ = flow;
  waiting_tail_ = flow;
  // If the queue is not blocked on the socket, room comes back with the
  // next flush; make sure one happens.
  if (!output_blocked_) {
    loop_.defer([this, alive = alive_] {
      if (!*alive || closed_) return;
      flush();
      if (!output_blocked_) wake_waiting();
    });
  }
}

void ClientSession::wake_waiting() {
  // Each woken flow either fills the queue again (and re-parks) or is done.
  // Only flows parked before this call run now, so a flow that re-parks
  // cannot spin here.
  Flow* last = waiting_tail_;
  while (waiting_head_ && !output_blocked_ && !closed_) {
    Flow* flow = waiting_head_;
    waiting_head_ = flow->waiting_next_;
    if (waiting_head_)
      waiting_head_->waiting_prev_ = nullptr;
    else
      waiting_tail_ = nullptr;
    flow->waiting_ = false;
    flow->waiting_next_ = flow->waiting_prev_ = nullptr;
    if (!flow->retired()) flow->pump();
    if (flow == last) break;
  }
}

void ClientSession::retire(Flow* flow) {
  if (flow->retired_) return;
  flow->retired_ = true;
  if (flow->waiting_) {
    if (flow->waiting_prev_)
      flow->waiting_prev_->waiting_next_ = flow->waiting_next_;
    else
      waiting_head_ = flow->waiting_next_;
    if (flow->waiting_next_)
      flow->waiting_next_->waiting_prev_ = flow->waiting_prev_;
    else
      waiting_tail_ = flow->waiting_prev_;
    flow->waiting_ = false;
  }
  auto found = flows_.find(flow->key());
  if (found != flows_.end()) {
    retired_.push_back(std::move(found->second));
    flows_.erase(found);
  }
  if (!reap_scheduled_) {
    reap_scheduled_ = true;
    loop_.defer([this, alive = alive_] {
      if (!*alive) return;
      reap();
    });
  }
}

void ClientSession::reap() {
  reap_scheduled_ = false;
  retired_.clear();
}

wire::MutableBytes ClientSession::peek_scratch(std::size_t bytes) {
  if (peek_scratch_.size() < bytes) peek_scratch_.resize(bytes);
  return {peek_scratch_.data(), bytes};
}

std::size_t ClientSession::buffer_budget_left() const {
  return buffered_bytes_ >= config_.client_buffer_budget
             ? 0
             : config_.client_buffer_budget - buffered_bytes_;
}

void ClientSession::close(const char* reason) {
  if (closed_) return;
  closed_ = true;
  log::info("client {} closed ({}): {}", id_, reason, counters_.summary());
  loop_.remove(socket_.get());
  // Flows retire themselves from shut_down(); iterate over a snapshot.
  std::vector<Flow*> flows;
  flows.reserve(flows_.size());
  for (auto& [key, flow] : flows_) flows.push_back(flow.get());
  for (Flow* flow : flows) flow->shut_down();
  socket_.reset();
  if (on_closed_ && *alive_) {
    auto callback = on_closed_;
    auto id = id_;
    loop_.defer([callback, id] { callback(id); });
  }
}

}  // namespace rtether::relay
