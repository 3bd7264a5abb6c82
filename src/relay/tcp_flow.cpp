// TcpFlow: see tcp_flow.hpp for the model.
#include "relay/tcp_flow.hpp"

#include <algorithm>

#include "io/log.hpp"
#include "relay/address_map.hpp"
#include "relay/flow_context.hpp"
#include "relay/flow_table.hpp"
#include "relay/icmp_error_sender.hpp"
#include "relay/proxy_exchange.hpp"
#include "relay/time_wait_flow.hpp"
#include "relay/error_quote.hpp"

namespace rtether::relay {

namespace {
// Without a peek offset every peek copies the in-flight bytes again; this cap
// bounds that cost (and the session's scratch buffer).
constexpr std::uint32_t kMaxInFlightWithoutPeekOffset = 256 * 1024;
// Room past the advertised buffer: a scaled window is rounded up to the
// next unit (RFC 7323 2.3, up to 2^14 - 1 bytes) and never shrinks (RFC 9293
// 3.8.6.2.2) even when the client budget does, so the device may rightly
// send a little more than the free space. Dropping that would stall it.
constexpr std::size_t kWindowRoundingSlack = 64 * 1024;
// How long a flow whose device side has ended waits for the host to take the
// data already acknowledged to the device before giving up on it.
constexpr std::chrono::seconds kDrainTimeout{60};
}  // namespace

TcpFlow::TcpFlow(FlowContext& context, const FlowKey& key, const tcp::Segment& syn)
    : Flow(context, key),
      endpoint_(tcp::Endpoint::passive(syn, context.config().tcp,
                                       tcp::SeqNumber{context.random_iss()}, context.now())),
      timer_(context.loop(), [this] { on_timer(); }),
      to_host_(context.config().tcp_flow_buffer + kWindowRoundingSlack),
      header_(header_toward_device<wire::TcpSegmentHeader>(key)) {}

TcpFlow::TcpFlow(FlowContext& context, const FlowKey& key, io::Fd accepted)
    : Flow(context, key),
      endpoint_(tcp::Endpoint::active(context.config().tcp, tcp::SeqNumber{context.random_iss()},
                                      context.now())),
      socket_(std::move(accepted)),
      timer_(context.loop(), [this] { on_timer(); }),
      to_host_(context.config().tcp_flow_buffer + kWindowRoundingSlack),
      header_(header_toward_device<wire::TcpSegmentHeader>(key)) {}

void TcpFlow::start_forwarded() {
  context_.loop().add(socket_.get(), io::Interest::ReadWrite, io::Trigger::Edge, this);
  prepare_host_socket();
  update_receive_space();
  emit_control();
  after_activity();
}

TcpFlow::~TcpFlow() { context_.add_buffered(-static_cast<long>(to_host_.size())); }

void TcpFlow::connect() {
  const io::Endpoint target{host_destination(key_.destination), key_.destination_port};
  const auto& proxy = context_.config().proxy;
  if (!proxy) return connect(target, context_.outbound());
  proxy_handshake_ = proxy->tcp_handshake(target);
  proxy_deadline_ = context_.now() + context_.config().proxy_timeout;
  connect(proxy->address, context_.outbound());
}

void TcpFlow::connect(const io::Endpoint& target, const io::Outbound& from) {
  auto connection = io::connect_nonblocking(io::Transport::Tcp, target, from);
  if (!connection) {
    log::debug("{}: connect failed: {}", key_.to_string(), connection.error().message());
    return on_connect_done(connection.error());
  }
  socket_ = std::move(connection->fd);
  context_.loop().add(socket_.get(), io::Interest::ReadWrite, io::Trigger::Edge, this);
  if (!connection->in_progress) return on_connect_done({});
  events_.set(HostEvent::Connecting);
  after_activity();
}

void TcpFlow::on_connect_done(const std::error_code& error) {
  if (proxy_handshake_ && !has(HostEvent::ProxyHandshake)) {
    // Connected to the proxy (or not): its answer decides, not this.
    if (error) return on_proxy_failed(context_.counters().proxy_connect_failed, error.message());
    events_.set(HostEvent::Connecting);
    events_.set(HostEvent::ProxyHandshake);
    continue_proxy_handshake();
    return after_activity();
  }
  events_.clear(HostEvent::Connecting);
  auto now = context_.now();
  if (error) {
    ++context_.counters().tcp_connect_failed;
    endpoint_.on_connect_failed(now);
    // A refused connection is a reset, as the host would send; no route
    // is an ICMP error, as a router would send (the RST then stays unsent).
    if (!answer_with_icmp(error)) emit_control();
    return finish();
  }
  prepare_host_socket();
  endpoint_.on_connected(now);
  update_receive_space();
  emit_control();
  after_activity();
}

void TcpFlow::continue_proxy_handshake() {
  auto progress = advance_proxy_handshake(socket_.get(), *proxy_handshake_,
                                          context_.peek_scratch(wire::ProxyHandshake::kMaxAnswer),
                                          context_.counters());
  if (progress.result == ProxyProgress::Result::Failed)
    return on_proxy_failed(*progress.counter, progress.why);
  if (progress.result == ProxyProgress::Result::Waiting) return;
  proxy_handshake_.reset();
  proxy_deadline_ = tcp::Time::max();
  events_.clear(HostEvent::ProxyHandshake);
  ++context_.counters().proxy_tunnels;
  // The target's first bytes may have come with the answer: no new
  // readiness edge will announce them.
  events_.set(HostEvent::HostReadable);
  on_connect_done({});
}

void TcpFlow::on_proxy_failed(std::uint64_t& counter, std::string_view why) {
  ++counter;
  log::debug("{}: proxy {}: {}", key_.to_string(), context_.config().proxy->to_string(), why);
  proxy_handshake_.reset();
  proxy_deadline_ = tcp::Time::max();
  events_.clear(HostEvent::ProxyHandshake);
  events_.clear(HostEvent::Connecting);
  // The device sees what a refused direct connect gives it: a reset.
  endpoint_.on_connect_failed(context_.now());
  emit_control();
  finish();
}

bool TcpFlow::answer_with_icmp(const std::error_code& error) {
  auto kind = icmp_error_for(error);
  if (!kind || *kind == wire::IcmpErrorKind::PortUnreachable ||
      *kind == wire::IcmpErrorKind::PacketTooBig)
    return false;
  // Quote the device's SYN, rebuilt from the flow (the device matches the
  // error to its connection by addresses, ports and sequence number).
  wire::TcpSegmentHeader syn;
  syn.source = key_.source;
  syn.destination = key_.destination;
  syn.source_port = key_.source_port;
  syn.destination_port = key_.destination_port;
  syn.seq = (endpoint_.rcv_nxt() - 1).raw();
  syn.flags = wire::tcp_flag::kSyn;
  std::uint8_t quote[wire::kIpv6Header + wire::kTcpMinHeader];
  std::size_t length = wire::build_tcp(wire::MutableBytes{quote, sizeof quote}, syn, {});
  if (length == 0) return false;
  // Not sent (withheld or no room): the caller's reset tells the device.
  return context_.icmp_errors().send(*kind, 0, key_.destination, key_.source,
                                     wire::Bytes{quote, length});
}

void TcpFlow::prepare_host_socket() {
  io::set_no_delay(socket_.get());
  // Without a peek offset (config.use_peek_offset, probed once at start;
  // Linux < 6.9) the flow peeks past the in-flight bytes instead, which
  // copies them again, so in-flight data is capped.
  if (!context_.config().use_peek_offset || io::set_peek_offset(socket_.get(), 0))
    events_.set(HostEvent::PeekAfter);
}

void TcpFlow::on_ready(io::Readiness readiness) {
  if (retired_) return;
  if (has(HostEvent::ProxyHandshake)) {
    continue_proxy_handshake();
    if (retired_ || has(HostEvent::Connecting)) return;
  } else if (has(HostEvent::Connecting)) {
    if (!readiness.writable && !readiness.error && !readiness.hangup) return;
    // Writable without an error means connected; only an error needs asking.
    const bool failed = readiness.error || readiness.hangup;
    on_connect_done(failed ? io::connect_result(socket_.get()) : std::error_code{});
    if (retired_ || has(HostEvent::Connecting)) return;
  }
  if (readiness.writable) {
    events_.clear(HostEvent::HostWriteBlocked);
    write_pending_to_host();
  }
  if (readiness.readable_or_closed()) events_.set(HostEvent::HostReadable);
  if (readiness.peer_done()) events_.set(HostEvent::HostFinSeen);
  pump();
}

void TcpFlow::on_device_packet(const wire::IpPacket& packet) {
  if (retired_) return;
  auto view = wire::TcpView::parse(packet.payload);
  if (!view) {
    ++context_.counters().drop_bad_transport;
    return;
  }
  auto segment = tcp::Segment::from(*view);
  auto now = context_.now();
  auto input = endpoint_.on_segment(segment, now);
  if (input.reset) {
    // The device aborted: abort the host side too (RST, not FIN).
    if (socket_.valid()) io::set_abort_on_close(socket_.get());
    return finish();
  }
  if (input.acked > 0 && socket_.valid()) io::discard(socket_.get(), input.acked);
  if (input.rewind) rewind();
  if (input.out_of_order) ++context_.counters().tcp_out_of_order;
  if (!input.data.empty() || (segment.flags & wire::tcp_flag::kFin)) take_device_data(input.data);
  pump();
}

void TcpFlow::take_device_data(wire::Bytes data) {
  // In-order data first, then whatever held out-of-order data it joined up
  // with, for as long as everything offered is taken.
  auto now = context_.now();
  while (true) {
    std::size_t taken = deliver_to_host(data);
    // The device's FIN counts only once all data before it was taken.
    if (endpoint_.accept(taken, now)) events_.set(HostEvent::DeviceFin);
    if (taken < data.size()) break;
    auto more = endpoint_.take_reassembled();
    if (!more) break;
    data = *more;
  }
  write_pending_to_host();
  update_receive_space();
}

std::size_t TcpFlow::deliver_to_host(wire::Bytes data) {
  if (data.empty() || !socket_.valid() || has(HostEvent::HostWriteShut)) return 0;
  std::size_t taken = 0;
  if (to_host_.empty() && !has(HostEvent::HostWriteBlocked)) {
    auto sent = io::send_some(socket_.get(), data);
    if (sent.would_block()) {
      events_.set(HostEvent::HostWriteBlocked);
    } else if (!sent) {
      // The host closed or reset: abort toward the device.
      events_.set(HostEvent::HostWriteFailed);
      endpoint_.host_reset(context_.now());
      return 0;
    } else {
      taken = *sent;
      if (taken < data.size()) events_.set(HostEvent::HostWriteBlocked);
    }
  }
  // Everything the endpoint delivers lies inside the window it advertised,
  // which the queue's slack always covers: take it all.
  std::size_t queued = to_host_.append(data.subspan(taken));
  context_.add_buffered(static_cast<long>(queued));
  return taken + queued;
}

void TcpFlow::write_pending_to_host() {
  if (!socket_.valid()) return;
  std::size_t before = to_host_.size();
  while (!to_host_.empty() && !has(HostEvent::HostWriteBlocked)) {
    auto sent = io::send_some(socket_.get(), to_host_.front());
    if (sent.would_block()) {
      events_.set(HostEvent::HostWriteBlocked);
      break;
    }
    if (!sent) {
      events_.set(HostEvent::HostWriteFailed);
      endpoint_.host_reset(context_.now());
      break;
    }
    to_host_.consume(*sent);
  }
  context_.add_buffered(static_cast<long>(to_host_.size()) - static_cast<long>(before));
  if (has(HostEvent::DeviceFin) && to_host_.empty() && !has(HostEvent::HostWriteShut)) {
    events_.set(HostEvent::HostWriteShut);
    io::shutdown_write(socket_.get());
  }
  if (before != to_host_.size()) update_receive_space();
}

void TcpFlow::update_receive_space() {
  std::size_t limit = context_.config().tcp_flow_buffer;
  std::size_t free = to_host_.size() >= limit ? 0 : limit - to_host_.size();
  std::size_t budget = context_.buffer_budget_left();
  // The per-client budget binds: devices are slowed rather than buffered for.
  if (budget < free) ++context_.counters().window_limited_by_budget;
  std::size_t space = std::min(free, budget);
  endpoint_.set_receive_space(static_cast<std::uint32_t>(space));
}

void TcpFlow::pump() {
  if (retired_) return;
  emit_control();
  send_host_data();
  emit_control();
  after_activity();
}

void TcpFlow::send_host_data() {
  auto now = context_.now();
  while (has(HostEvent::HostReadable) && !has(HostEvent::HostEof) && socket_.valid() &&
         !has(HostEvent::Connecting)) {
    std::uint32_t allowance = endpoint_.send_allowance();
    std::uint32_t in_flight = endpoint_.in_flight();
    if (has(HostEvent::PeekAfter))
      allowance = std::min<std::uint32_t>(
          allowance, in_flight >= kMaxInFlightWithoutPeekOffset
                         ? 0
                         : kMaxInFlightWithoutPeekOffset - in_flight);
    if (allowance == 0) return;
    std::size_t want = std::min<std::size_t>(allowance, endpoint_.max_segment());
    std::size_t header_size = wire::tcp_header_size(header_);
    auto room = context_.reserve(header_size + want, false);
    if (room.empty()) {
      context_.wait_for_output(*this);
      return;
    }
    auto payload = room.subspan(header_size, want);
    const bool peek_after = has(HostEvent::PeekAfter);
    auto peeked = !peek_after ? io::peek_some(socket_.get(), payload)
                              : io::peek_after(socket_.get(), context_.peek_scratch(in_flight),
                                               payload);
    if (peeked.would_block() ||
        (peek_after && peeked && *peeked == 0 && !has(HostEvent::HostFinSeen))) {
      events_.clear(HostEvent::HostReadable);
      return;
    }
    if (!peeked) {
      endpoint_.host_reset(now);
      return;
    }
    const std::size_t got = *peeked;
    if (got == 0) {
      events_.set(HostEvent::HostEof);
      endpoint_.host_closed(now);
      return;
    }
    // The host's FIN is already queued (peer closed) and the peek took less
    // than asked: these are its last bytes, and the FIN can go with them.
    bool last = has(HostEvent::HostFinSeen) && got < want;
    auto segment = endpoint_.send_data(static_cast<std::uint32_t>(got), now, last);
    send_segment(segment, got, room);
    if (last) {
      events_.set(HostEvent::HostEof);
      return;
    }
    // A short peek drained the socket; new data brings a new edge
    // (edge-triggered), so peeking again now would only block.
    if (got < want) events_.clear(HostEvent::HostReadable);
  }
}

void TcpFlow::emit_control() {
  auto now = context_.now();
  while (auto segment = endpoint_.poll(now)) {
    header_.mss = segment->mss;
    header_.window_scale = segment->window_scale;
    auto room = context_.reserve(wire::tcp_header_size(header_), true);
    header_.mss.reset();
    header_.window_scale.reset();
    if (room.empty()) continue;  // counted by reserve(); TCP recovers by retransmission
    send_segment(*segment, 0, room);
  }
}

void TcpFlow::send_segment(const tcp::OutSegment& segment, std::size_t payload_length,
                           wire::MutableBytes room) {
  header_.seq = segment.seq.raw();
  header_.ack = segment.ack.raw();
  header_.flags = segment.flags;
  header_.window = segment.window;
  header_.mss = segment.mss;
  header_.window_scale = segment.window_scale;
  std::size_t length =
      wire::write_tcp_headers(room, header_, payload_length, context_.checksums());
  header_.mss.reset();
  header_.window_scale.reset();
  context_.commit(length);
}

void TcpFlow::rewind() {
  if (!socket_.valid()) return;
  if (!has(HostEvent::PeekAfter)) io::set_peek_offset(socket_.get(), 0);
  // Everything not acknowledged is sent again, up to and including EOF.
  events_.set(HostEvent::HostReadable);
  events_.clear(HostEvent::HostEof);
}

void TcpFlow::on_timer() {
  if (retired_) return;
  if (proxy_handshake_ && context_.now() >= proxy_deadline_)
    return on_proxy_failed(context_.counters().proxy_timeouts, "no answer in time");
  // A closed endpoint has no timers: this is the drain deadline.
  if (endpoint_.closed()) return pump();
  bool time_wait = endpoint_.state() == tcp::State::TimeWait;
  bool syn_sent = endpoint_.state() == tcp::State::SynSent;
  auto result = endpoint_.on_timer(context_.now());
  if (result.rewind) rewind();
  // A forwarded connection the device never answered: the host application
  // sees a reset, as for a refused one.
  if (syn_sent && endpoint_.closed() && socket_.valid()) io::set_abort_on_close(socket_.get());
  // The end of TIME-WAIT is a normal close; anything else closing on a timer
  // (connect, idle, closing timeouts, SYN-ACK retries) is an expiry.
  if (endpoint_.closed() && !time_wait) ++context_.counters().flows_expired;
  pump();
}

void TcpFlow::after_activity() {
  if (retired_) return;
  bool owed = owes_host();
  if (owed && (endpoint_.closed() || endpoint_.state() == tcp::State::TimeWait) &&
      drain_deadline_ == tcp::Time::max())
    drain_deadline_ = context_.now() + kDrainTimeout;
  if (owed && context_.now() >= drain_deadline_) {
    // The host has not read what the device sent for a whole drain timeout:
    // abort it (RST) rather than let it take the stream for complete.
    ++context_.counters().tcp_host_drain_expired;
    io::set_abort_on_close(socket_.get());
    emit_control();
    return finish();
  }
  if (endpoint_.closed()) {
    emit_control();
    if (!owed) return finish();
    // Only the host side is left: wait for writability (or the drain deadline).
    if (!timer_.armed() || timer_.deadline() != drain_deadline_) timer_.arm(drain_deadline_);
    return;
  }
  if (endpoint_.state() == tcp::State::TimeWait && !owed) return enter_time_wait();
  auto deadline = std::min({endpoint_.deadline(), drain_deadline_, proxy_deadline_});
  if (deadline == tcp::Time::max())
    timer_.cancel();
  else if (!timer_.armed() || timer_.deadline() != deadline)
    timer_.arm(deadline);
}

void TcpFlow::shut_down() {
  if (retired_) return;
  // The client is gone: nobody will read more, so abort the host side.
  if (socket_.valid()) io::set_abort_on_close(socket_.get());
  finish();
}

void TcpFlow::abort() {
  if (retired_) return;
  endpoint_.abort(context_.now());
  emit_control();
  shut_down();
}

void TcpFlow::enter_time_wait() {
  // Both directions are finished and nothing is owed to the host: the host
  // socket has nothing left to do, and of the endpoint only what answers a
  // retransmitted FIN is kept (TimeWaitFlow), in this flow's place.
  // 2 MSL counts from now (the endpoint may have entered TIME-WAIT a while
  // ago, while data owed to the host drained): the table's lingering list
  // stays in deadline order that way.
  timer_.cancel();
  close_socket(socket_);
  auto record = endpoint_.time_wait();
  record.restart(context_.now());
  const io::Time until = record.deadline();
  context_.flows().replace_lingering(
      *this, std::make_unique<TimeWaitFlow>(context_, key_, record), until);
}

void TcpFlow::finish() {
  if (retired_) return;
  timer_.cancel();
  context_.flows().retire(*this);
  close_socket(socket_);
}

}  // namespace rtether::relay
