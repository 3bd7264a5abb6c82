// TcpFlow: see tcp_flow.hpp for the model.
#include "relay/tcp_flow.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>

#include "io/log.hpp"
#include "relay/address_map.hpp"
#include "relay/client_session.hpp"
#include "relay/error_quote.hpp"

namespace rtether::relay {

namespace {
// Without SO_PEEK_OFF every peek copies the in-flight bytes again; this cap
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

TcpFlow::TcpFlow(ClientSession& session, const FlowKey& key, const tcp::Segment& syn)
    : Flow(session, key),
      endpoint_(tcp::Endpoint::passive(syn, session.config().tcp,
                                       tcp::SeqNumber{session.random_iss()}, session.now())),
      timer_(session.loop(), [this] { on_timer(); }),
      to_host_(session.config().tcp_flow_buffer + kWindowRoundingSlack) {
  header_.source = key.destination;
  header_.destination = key.source;
  header_.source_port = key.destination_port;
  header_.destination_port = key.source_port;
}

TcpFlow::TcpFlow(ClientSession& session, const FlowKey& key, io::Fd accepted)
    : Flow(session, key),
      endpoint_(tcp::Endpoint::active(session.config().tcp, tcp::SeqNumber{session.random_iss()},
                                      session.now())),
      socket_(std::move(accepted)),
      timer_(session.loop(), [this] { on_timer(); }),
      to_host_(session.config().tcp_flow_buffer + kWindowRoundingSlack) {
  header_.source = key.destination;
  header_.destination = key.source;
  header_.source_port = key.destination_port;
  header_.destination_port = key.source_port;
}

void TcpFlow::start_forwarded() {
  session_.loop().add(socket_.get(), EPOLLIN | EPOLLOUT | EPOLLRDHUP, this);
  prepare_host_socket();
  update_receive_space();
  emit_control();
  after_activity();
}

TcpFlow::~TcpFlow() { session_.add_buffered(-static_cast<long>(to_host_.size())); }

void TcpFlow::connect() {
  io::Endpoint target{host_destination(key_.destination), key_.destination_port};
  auto [fd, result] = io::connect_nonblocking(SOCK_STREAM, target);
  if (result != 0 && result != -EINPROGRESS) {
    log::debug("{}: connect failed: {}", key_.to_string(), io::error_text(result));
    return on_connect_done(result);
  }
  socket_ = std::move(fd);
  session_.loop().add(socket_.get(), EPOLLIN | EPOLLOUT | EPOLLRDHUP, this);
  if (result == 0) return on_connect_done(0);
  connecting_ = true;
  after_activity();
}

void TcpFlow::on_connect_done(int result) {
  connecting_ = false;
  auto now = session_.now();
  if (result != 0) {
    ++session_.mutable_counters().tcp_connect_failed;
    endpoint_.on_connect_failed(now);
    // A refused connection is a reset, as the host would send; no route
    // is an ICMP error, as a router would send (the RST then stays unsent).
    if (!answer_with_icmp(result)) emit_control();
    return finish();
  }
  prepare_host_socket();
  endpoint_.on_connected(now);
  update_receive_space();
  emit_control();
  after_activity();
}

bool TcpFlow::answer_with_icmp(int result) {
  auto kind = icmp_error_for(result);
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
  return session_.send_icmp_error(*kind, 0, key_.destination, key_.source,
                                  wire::Bytes{quote, length});
}

void TcpFlow::prepare_host_socket() {
  io::set_no_delay(socket_.get());
  if (!session_.config().use_peek_offset) {
    peek_offset_ = false;
  } else if (io::set_peek_offset(socket_.get(), 0) != 0) {
    // Linux < 6.9 has no SO_PEEK_OFF for TCP: peek past the in-flight bytes
    // instead, which copies them again, so in-flight data is capped.
    peek_offset_ = false;
    static bool warned = false;
    if (!warned) {
      warned = true;
      log::warn("kernel lacks SO_PEEK_OFF for TCP (Linux >= 6.9 has it): "
                "host-to-device TCP uses a slower path");
    }
  }
}

void TcpFlow::on_ready(std::uint32_t events) {
  if (retired_) return;
  if (connecting_) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    // Writable without an error means connected; only an error needs SO_ERROR.
    on_connect_done((events & (EPOLLERR | EPOLLHUP)) ? io::connect_result(socket_.get()) : 0);
    if (retired_ || connecting_) return;
  }
  if (events & EPOLLOUT) {
    host_write_blocked_ = false;
    write_pending_to_host();
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) host_readable_ = true;
  if (events & (EPOLLRDHUP | EPOLLHUP)) host_fin_seen_ = true;
  pump();
}

void TcpFlow::on_device_packet(const wire::IpPacket& packet) {
  if (retired_) return;
  auto view = wire::TcpView::parse(packet.payload);
  if (!view) {
    ++session_.mutable_counters().drop_bad_transport;
    return;
  }
  auto segment = tcp::Segment::from(*view);
  auto now = session_.now();
  auto input = endpoint_.on_segment(segment, now);
  if (input.reset) {
    // The device aborted: abort the host side too (RST, not FIN).
    if (socket_.valid()) io::set_linger_reset(socket_.get());
    return finish();
  }
  if (input.acked > 0 && socket_.valid()) io::discard(socket_.get(), input.acked);
  if (input.rewind) rewind();
  if (input.out_of_order) ++session_.mutable_counters().tcp_out_of_order;
  if (!input.data.empty() || (segment.flags & wire::tcp_flag::kFin)) take_device_data(input.data);
  pump();
}

void TcpFlow::take_device_data(wire::Bytes data) {
  // In-order data first, then whatever held out-of-order data it joined up
  // with, for as long as everything offered is taken.
  auto now = session_.now();
  while (true) {
    std::size_t taken = deliver_to_host(data);
    // The device's FIN counts only once all data before it was taken.
    if (endpoint_.accept(taken, now)) device_fin_ = true;
    if (taken < data.size()) break;
    auto more = endpoint_.take_reassembled();
    if (!more) break;
    data = *more;
  }
  write_pending_to_host();
  update_receive_space();
}

std::size_t TcpFlow::deliver_to_host(wire::Bytes data) {
  if (data.empty() || !socket_.valid() || host_write_shut_) return 0;
  std::size_t taken = 0;
  if (to_host_.empty() && !host_write_blocked_) {
    long sent = io::send_some(socket_.get(), data);
    if (sent == -EAGAIN) {
      host_write_blocked_ = true;
    } else if (sent < 0) {
      // The host closed or reset: abort toward the device.
      host_write_failed_ = true;
      endpoint_.host_reset(session_.now());
      return 0;
    } else {
      taken = static_cast<std::size_t>(sent);
      if (taken < data.size()) host_write_blocked_ = true;
    }
  }
  // Everything the endpoint delivers lies inside the window it advertised,
  // which the queue's slack always covers: take it all.
  std::size_t queued = to_host_.append(data.subspan(taken));
  session_.add_buffered(static_cast<long>(queued));
  return taken + queued;
}

void TcpFlow::write_pending_to_host() {
  if (!socket_.valid()) return;
  std::size_t before = to_host_.size();
  while (!to_host_.empty() && !host_write_blocked_) {
    long sent = io::send_some(socket_.get(), to_host_.front());
    if (sent == -EAGAIN) {
      host_write_blocked_ = true;
      break;
    }
    if (sent < 0) {
      host_write_failed_ = true;
      endpoint_.host_reset(session_.now());
      break;
    }
    to_host_.consume(static_cast<std::size_t>(sent));
  }
  session_.add_buffered(static_cast<long>(to_host_.size()) - static_cast<long>(before));
  if (device_fin_ && to_host_.empty() && !host_write_shut_) {
    host_write_shut_ = true;
    io::shutdown_write(socket_.get());
  }
  if (before != to_host_.size()) update_receive_space();
}

void TcpFlow::update_receive_space() {
  std::size_t limit = session_.config().tcp_flow_buffer;
  std::size_t free = to_host_.size() >= limit ? 0 : limit - to_host_.size();
  std::size_t budget = session_.buffer_budget_left();
  // The per-client budget binds: devices are slowed rather than buffered for.
  if (budget < free) ++session_.mutable_counters().window_limited_by_budget;
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
  auto now = session_.now();
  while (host_readable_ && !host_eof_ && socket_.valid() && !connecting_) {
    std::uint32_t allowance = endpoint_.send_allowance();
    std::uint32_t in_flight = endpoint_.in_flight();
    if (!peek_offset_)
      allowance = std::min<std::uint32_t>(
          allowance, in_flight >= kMaxInFlightWithoutPeekOffset
                         ? 0
                         : kMaxInFlightWithoutPeekOffset - in_flight);
    if (allowance == 0) return;
    std::size_t want = std::min<std::size_t>(allowance, endpoint_.max_segment());
    std::size_t header_size = wire::tcp_header_size(header_);
    auto room = session_.reserve(header_size + want, false);
    if (room.empty()) {
      session_.wait_for_output(this);
      return;
    }
    auto payload = room.subspan(header_size, want);
    long got = peek_offset_ ? io::peek_some(socket_.get(), payload)
                            : io::peek_after(socket_.get(), session_.peek_scratch(in_flight),
                                             payload);
    if (got == -EAGAIN || (!peek_offset_ && got == 0 && !host_fin_seen_)) {
      host_readable_ = false;
      return;
    }
    if (got == 0) {
      host_eof_ = true;
      endpoint_.host_closed(now);
      return;
    }
    if (got < 0) {
      endpoint_.host_reset(now);
      return;
    }
    // The host's FIN is already queued (EPOLLRDHUP) and the peek took less
    // than asked: these are its last bytes, and the FIN can go with them.
    bool last = host_fin_seen_ && static_cast<std::size_t>(got) < want;
    auto segment = endpoint_.send_data(static_cast<std::uint32_t>(got), now, last);
    send_segment(segment, static_cast<std::size_t>(got), room);
    if (last) {
      host_eof_ = true;
      return;
    }
    // A short peek drained the socket; new data brings a new edge
    // (EPOLLET), so peeking again now would only return EAGAIN.
    if (static_cast<std::size_t>(got) < want) host_readable_ = false;
  }
}

void TcpFlow::emit_control() {
  auto now = session_.now();
  while (auto segment = endpoint_.poll(now)) {
    header_.mss = segment->mss;
    header_.window_scale = segment->window_scale;
    auto room = session_.reserve(wire::tcp_header_size(header_), true);
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
  std::size_t length = wire::write_tcp_headers(room, header_, payload_length);
  header_.mss.reset();
  header_.window_scale.reset();
  session_.commit(length);
}

void TcpFlow::rewind() {
  if (!socket_.valid()) return;
  if (peek_offset_) io::set_peek_offset(socket_.get(), 0);
  // Everything not acknowledged is sent again, up to and including EOF.
  host_readable_ = true;
  host_eof_ = false;
}

void TcpFlow::on_timer() {
  if (retired_) return;
  // A closed endpoint has no timers: this is the drain deadline.
  if (endpoint_.closed()) return pump();
  bool time_wait = endpoint_.state() == tcp::State::TimeWait;
  bool syn_sent = endpoint_.state() == tcp::State::SynSent;
  auto result = endpoint_.on_timer(session_.now());
  if (result.rewind) rewind();
  // A forwarded connection the device never answered: the host application
  // sees a reset, as for a refused one.
  if (syn_sent && endpoint_.closed() && socket_.valid()) io::set_linger_reset(socket_.get());
  // The end of TIME-WAIT is a normal close; anything else closing on a timer
  // (connect, idle, closing timeouts, SYN-ACK retries) is an expiry.
  if (endpoint_.closed() && !time_wait) ++session_.mutable_counters().flows_expired;
  pump();
}

void TcpFlow::after_activity() {
  if (retired_) return;
  bool owed = owes_host();
  if (owed && (endpoint_.closed() || endpoint_.state() == tcp::State::TimeWait) &&
      drain_deadline_ == tcp::Time::max())
    drain_deadline_ = session_.now() + kDrainTimeout;
  if (owed && session_.now() >= drain_deadline_) {
    // The host has not read what the device sent for a whole drain timeout:
    // abort it (RST) rather than let it take the stream for complete.
    ++session_.mutable_counters().tcp_host_drain_expired;
    io::set_linger_reset(socket_.get());
    emit_control();
    return finish();
  }
  if (endpoint_.closed()) {
    emit_control();
    if (!owed) return finish();
    // Only the host side is left: wait for EPOLLOUT (or the drain deadline).
    if (!timer_.armed() || timer_.deadline() != drain_deadline_) timer_.arm(drain_deadline_);
    return;
  }
  if (endpoint_.state() == tcp::State::TimeWait && !lingering_ && !owed) enter_lingering();
  auto deadline = std::min(endpoint_.deadline(), drain_deadline_);
  if (deadline == tcp::Time::max())
    timer_.cancel();
  else if (!timer_.armed() || timer_.deadline() != deadline)
    timer_.arm(deadline);
}

void TcpFlow::shut_down() {
  if (retired_) return;
  // The client is gone: nobody will read more, so abort the host side.
  if (socket_.valid()) io::set_linger_reset(socket_.get());
  finish();
}

void TcpFlow::enter_lingering() {
  // Both directions are finished: the host socket has nothing left to do.
  // Only the endpoint stays, to re-acknowledge a retransmitted FIN.
  lingering_ = true;
  session_.add_lingering(1);
  socket_.reset();  // closing also leaves epoll
}

void TcpFlow::finish() {
  if (retired_) return;
  if (lingering_) session_.add_lingering(-1);
  timer_.cancel();
  session_.retire(this);
  socket_.reset();
}

}  // namespace rtether::relay
