// tcp::Endpoint state machine (lifecycle in endpoint.hpp). The relay is the
// passive side of RFC 9293; this file implements segment arrival (3.10.7.4)
// with the RFC 5961 hardening (RST, SYN and ACK checks), window scaling
// (RFC 7323), retransmission timing (RFC 6298, Karn) with go-back-N rewinds,
// a simplified fast retransmit (RFC 5681 3.2) and zero-window probing.
//
// Sequence bookkeeping: snd_una_/snd_nxt_/snd_max_ count data only; our SYN
// is iss_ and our FIN sits at fin_seq_, tracked by flags. Sequence numbers
// are SeqNumber values, compared modulo 2^32 (RFC 9293 3.4).
#include "tcp/endpoint.hpp"

#include <algorithm>

#include "tcp/reset_reply.hpp"

namespace rtether::tcp {
namespace {

using wire::tcp_flag::kAck;
using wire::tcp_flag::kFin;
using wire::tcp_flag::kPsh;
using wire::tcp_flag::kRst;
using wire::tcp_flag::kSyn;

constexpr std::uint32_t kMaxWindowField = 65535;  // 16-bit window field, RFC 9293 3.1
constexpr int kDuplicateAckThreshold = 3;         // RFC 5681 3.2

OutSegment reset_segment(SeqNumber seq, SeqNumber ack, std::uint8_t flags) {
  OutSegment reset;
  reset.seq = seq;
  reset.ack = ack;
  reset.flags = flags;
  return reset;
}

}  // namespace

const char* to_string(State state) {
  switch (state) {
    case State::SynSent: return "SynSent";
    case State::Connecting: return "Connecting";
    case State::SynReceived: return "SynReceived";
    case State::Established: return "Established";
    case State::CloseWait: return "CloseWait";
    case State::LastAck: return "LastAck";
    case State::FinWait1: return "FinWait1";
    case State::FinWait2: return "FinWait2";
    case State::Closing: return "Closing";
    case State::TimeWait: return "TimeWait";
    case State::Closed: return "Closed";
  }
  return "Unknown";
}

// Both opens start here; the passive one then takes the device's SYN, the
// active one queues ours.
Endpoint::Endpoint(State state, const Config& config, const SynOptions& our_syn,
                   SeqNumber initial_seq, Time now)
    : config_(config),
      state_(state),
      our_syn_(our_syn),
      receive_space_(config.receive_buffer),
      iss_(initial_seq),
      snd_una_(initial_seq + 1),
      snd_nxt_(snd_una_),
      snd_max_(snd_una_),
      fin_seq_(snd_una_),
      rtt_(config.min_rto, config.max_rto),
      last_segment_(now) {}

Endpoint Endpoint::passive(const Segment& syn, const Config& config, SeqNumber initial_seq,
                           Time now) {
  Endpoint endpoint(State::Connecting, config,
                    SynOptions::answer(config.mss, config.receive_buffer, syn.options),
                    initial_seq, now);
  endpoint.take_device_syn(syn);
  endpoint.state_deadline_ = now + config.connect_timeout;
  return endpoint;
}

Endpoint Endpoint::active(const Config& config, SeqNumber initial_seq, Time now) {
  Endpoint endpoint(State::SynSent, config, SynOptions::offer(config.mss, config.receive_buffer),
                    initial_seq, now);
  endpoint.queue_syn(now);
  return endpoint;
}

// The device's SYN (passive open) or SYN-ACK (active open): RFC 9293 3.10.7.2
// and 3.10.7.3 set IRS, RCV.NXT and the send window from it.
void Endpoint::take_device_syn(const Segment& syn) {
  irs_ = syn.seq;
  rcv_nxt_ = syn.seq + 1;
  rcv_adv_ = rcv_nxt_;
  options_ = negotiate(our_syn_, syn.options);
  snd_wnd_ = max_snd_wnd_ = syn.window;  // RFC 7323 2.2: a SYN's window is never scaled
  snd_wl1_ = syn.seq;
  snd_wl2_ = iss_ + 1;
}

// Our SYN or SYN-ACK goes out with poll(), and again on a timeout that
// starts at config.syn_ack_timeout and doubles.
void Endpoint::queue_syn(Time now) {
  syn_pending_ = true;
  syn_timeout_ = config_.syn_ack_timeout;
  state_deadline_ = now + syn_timeout_;
}

// The handshake is complete (RFC 9293 3.10.7.3 SYN-SENT, 3.10.7.4
// SYN-RECEIVED); a host close that came first now sends its FIN.
void Endpoint::establish(Time now) {
  state_ = State::Established;
  syn_pending_ = false;
  if (host_closed_) {
    state_ = State::FinWait1;
    fin_seq_ = snd_max_;
    state_deadline_ = now + config_.closing_timeout;
  }
}

// RFC 9293 3.10.7.3, SYN-SENT. A simultaneous open (a bare SYN from the
// device) does not happen with a device server and is dropped; our SYN is
// resent on the timer anyway.
Endpoint::Input Endpoint::on_syn_sent(const Segment& segment, Time now) {
  Input input;
  const bool ack = segment.flags & kAck;
  // RFC 9293 3.10.7.3: "If SEG.ACK =< ISS or SEG.ACK > SND.NXT", the
  // segment is not about our SYN: a RST is dropped, anything else answered
  // <SEQ=SEG.ACK><CTL=RST> and we keep waiting. This is what clears a stale
  // connection the device still holds on the same ports (its challenge ACK
  // to our SYN), so that our resent SYN then opens a fresh one.
  if (ack && segment.ack != iss_ + 1) {
    if (!(segment.flags & kRst)) reset_ = reset_reply(segment);
    return input;
  }
  if (segment.flags & kRst) {
    if (ack) {  // the device has no listener: connection refused
      close();
      input.reset = true;
    }
    return input;
  }
  if (!(segment.flags & kSyn) || !ack) return input;
  take_device_syn(segment);
  rtt_.on_ack(segment.ack, now);
  establish(now);
  ack_pending_ = true;
  input.can_send_more = true;
  return input;
}

void Endpoint::on_connected(Time now) {
  if (state_ != State::Connecting) return;
  state_ = State::SynReceived;
  queue_syn(now);
}

void Endpoint::on_connect_failed(Time) {
  if (state_ != State::Connecting) return;
  // What a host without a listener answers (RFC 9293 3.10.7.1): the RST
  // acknowledges the SYN so that the device's SYN-SENT accepts it.
  reset_and_close(SeqNumber{0});
}

Endpoint::Input Endpoint::on_segment(const Segment& segment, Time now) {
  Input input;
  if (closed()) return input;
  last_segment_ = now;
  if (state_ == State::SynSent) return on_syn_sent(segment, now);
  const bool rst = segment.flags & kRst;
  if (state_ == State::Connecting) {
    // Nothing was sent yet, so nothing can be acknowledged; a repeated SYN
    // waits for the host connect like the first one.
    if (rst && segment.seq == rcv_nxt_) {
      close();
      input.reset = true;
    }
    return input;
  }
  if (rst) {
    handle_reset(segment, input);
    return input;
  }
  if (segment.flags & kSyn) {
    if (state_ == State::SynReceived && segment.seq == irs_) {
      // Our SYN-ACK was lost: answer the retransmitted SYN at once.
      syn_pending_ = true;
      rtt_.on_retransmit();
    } else {
      ack_pending_ = true;  // RFC 5961 4.2: challenge ACK whatever the sequence number
    }
    return input;
  }
  if (state_ == State::TimeWait) {
    // RFC 9293 3.10.7.4: only a retransmitted FIN can arrive; acknowledge it
    // and restart the 2 MSL timeout.
    ack_pending_ = true;
    if (segment.flags & kFin) state_deadline_ = now + config_.time_wait;
    return input;
  }

  const std::uint32_t window = advertised_window();
  const bool text_acceptable = acceptable(segment, window);
  if (!text_acceptable) {
    ack_pending_ = true;
    // RFC 9293 3.10.7.4: with a zero receive window "special allowance should
    // be made to accept valid ACKs", so a zero-window probe still updates us.
    if (!(window == 0 && segment.seq == rcv_nxt_ && (segment.flags & kAck))) return input;
  }
  if (!(segment.flags & kAck)) return input;  // RFC 9293: no ACK bit, drop
  if (state_ == State::SynReceived) {
    // Only an ACK of our SYN completes the handshake; any other is dropped.
    if (segment.ack != iss_ + 1) return input;
    rtt_.on_ack(segment.ack, now);
    snd_wnd_ = std::uint32_t{segment.window} << options_.send_shift;
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = segment.seq;
    snd_wl2_ = segment.ack;
    establish(now);
    input.can_send_more = true;
  }
  if (!process_ack(segment, now, input) || !text_acceptable) return input;
  receive_text(segment, input);
  return input;
}

bool Endpoint::accept(std::size_t bytes, Time now) {
  // Taking more than was offered counts as all of it: rcv_nxt must never
  // pass data the device did not send.
  bytes = std::min(bytes, pending_data_);
  const bool fin = pending_fin_ && bytes == pending_data_;
  if (pending_data_ > 0) {
    // A lone segment taken whole may wait for our data to carry its ACK; a
    // partial take is answered at once (it also tells what was left out).
    if (bytes == pending_data_ && !ack_delayed_ && config_.delayed_ack.count() > 0 &&
        !pending_fin_) {
      ack_delayed_ = true;
      ack_deadline_ = now + config_.delayed_ack;
    } else {
      ack_pending_ = true;
    }
  }
  rcv_nxt_ += static_cast<std::uint32_t>(bytes);
  assembler_.advance(bytes);
  pending_data_ = 0;
  pending_fin_ = false;
  if (!fin) return false;
  assembler_.clear();
  rcv_nxt_ += 1;  // the FIN occupies one sequence number
  ack_pending_ = true;
  switch (state_) {
    case State::Established: state_ = State::CloseWait; break;
    case State::FinWait1: state_ = State::Closing; break;
    case State::FinWait2: enter_time_wait(now); break;
    default: break;
  }
  return true;
}

void Endpoint::set_receive_space(std::uint32_t bytes) {
  const std::uint32_t known = rcv_nxt_.until(rcv_adv_);
  receive_space_ = bytes;
  if (!receives_text()) return;
  // Receiver-side silly window avoidance (RFC 9293 3.8.6.2.2): announce a
  // reopened window only once it is worth a full segment (or half the buffer).
  const std::uint32_t threshold =
      std::max<std::uint32_t>(1, std::min<std::uint32_t>(config_.mss, config_.receive_buffer / 2));
  if (known < threshold && advertised_window() >= threshold) ack_pending_ = true;
}

std::uint32_t Endpoint::send_allowance() const {
  switch (state_) {
    case State::Established:
    case State::CloseWait:
    case State::FinWait1:
    case State::Closing:
    case State::LastAck: break;
    default: return 0;
  }
  std::uint32_t allowance = snd_nxt_.until(snd_una_ + snd_wnd_);
  if (host_closed_) allowance = std::min(allowance, snd_nxt_.until(fin_seq_));
  return allowance;
}

std::uint32_t Endpoint::in_flight() const { return snd_nxt_ - snd_una_; }

OutSegment Endpoint::send_data(std::uint32_t bytes, Time now, bool last) {
  OutSegment out;
  out.seq = snd_nxt_;
  out.ack = rcv_nxt_;
  out.flags = kAck | kPsh;
  out.window = take_window(false);
  ack_pending_ = false;  // this segment carries the same ACK and window
  rtt_.on_send(snd_nxt_, snd_nxt_ + bytes, now);
  snd_nxt_ += bytes;
  if (snd_nxt_ > snd_max_) snd_max_ = snd_nxt_;
  if (retransmit_deadline_ == Time::max()) retransmit_deadline_ = now + rtt_.rto();  // RFC 6298 5.1
  if (last) {
    host_closed(now);
    // The FIN occupies the sequence number right after this data
    // (RFC 9293 3.4); sending it here saves the device a packet.
    if (fin_due()) {
      fin_sent_ = true;
      fin_ever_sent_ = true;
      out.flags |= kFin;
    }
  }
  return out;
}

void Endpoint::host_closed(Time now) {
  if (host_closed_) return;
  switch (state_) {
    case State::SynSent:
    case State::SynReceived:
      // RFC 9293 3.10.4 CLOSE in SYN-RECEIVED: the FIN waits for ESTABLISHED.
      host_closed_ = true;
      return;
    case State::Established: state_ = State::FinWait1; break;
    case State::CloseWait: state_ = State::LastAck; break;
    default: return;
  }
  host_closed_ = true;
  fin_seq_ = snd_max_;  // the FIN goes right after all data ever sent
  state_deadline_ = now + config_.closing_timeout;
  update_retransmit_timer(now, false);
}

void Endpoint::host_reset(Time) {
  if (closed()) return;
  if (state_ == State::SynSent) {
    // RFC 9293 3.10.4 ABORT in SYN-SENT: the device may have answered our
    // SYN already; a reset at the sequence number it expects cancels that.
    // No ACK flag: we have acknowledged nothing, and a SYN-RECEIVED that
    // checks the ACK field (Linux) would ignore a RST acking 0.
    close();
    reset_ = reset_segment(iss_ + 1, SeqNumber{0}, kRst);
    return;
  }
  reset_and_close(state_ == State::Connecting ? SeqNumber{0} : next_seq());
}

void Endpoint::abort(Time now) { host_reset(now); }

std::optional<OutSegment> Endpoint::poll(Time now) {
  if (reset_) {
    const OutSegment reset = *reset_;
    reset_.reset();
    return reset;
  }
  if (closed()) return std::nullopt;
  OutSegment out;
  out.ack = rcv_nxt_;
  if (syn_pending_) {
    // Our SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED), first or resent.
    syn_pending_ = false;
    ack_pending_ = false;
    rtt_.on_send(iss_, iss_ + 1, now);
    out.seq = iss_;
    if (state_ == State::SynSent) {
      out.ack = SeqNumber{0};
      out.flags = kSyn;
    } else {
      out.flags = kSyn | kAck;
    }
    out.window = take_window(true);
    out.mss = our_syn_.mss;
    out.window_scale = our_syn_.window_scale;
    return out;
  }
  if (fin_due()) {
    fin_sent_ = true;
    fin_ever_sent_ = true;
    ack_pending_ = false;
    if (retransmit_deadline_ == Time::max()) retransmit_deadline_ = now + rtt_.rto();
    out.seq = fin_seq_;
    out.flags = kFin | kAck;
    out.window = take_window(false);
    return out;
  }
  if (ack_pending_) {
    ack_pending_ = false;
    out.seq = next_seq();
    out.flags = kAck;
    out.window = take_window(false);
    return out;
  }
  if (probe_pending_) {
    // RFC 9293 3.8.6.1: an old sequence number makes the device answer with
    // an ACK carrying its current window, without sending it any data.
    probe_pending_ = false;
    out.seq = snd_una_ - 1;
    out.flags = kAck;
    out.window = take_window(false);
    return out;
  }
  return std::nullopt;
}

Time Endpoint::deadline() const { return std::min(state_timer_deadline(), ack_deadline_); }

Time Endpoint::state_timer_deadline() const {
  switch (state_) {
    case State::Closed: return Time::max();
    case State::SynSent:
    case State::Connecting:
    case State::SynReceived:
    case State::TimeWait: return state_deadline_;
    case State::Established:
    case State::CloseWait:
      return std::min(last_segment_ + config_.idle_timeout, retransmit_deadline_);
    case State::FinWait1:
    case State::FinWait2:
    case State::Closing:
    case State::LastAck: break;
  }
  return std::min(state_deadline_, retransmit_deadline_);
}

Endpoint::TimerResult Endpoint::on_timer(Time now) {
  TimerResult result;
  if (now >= ack_deadline_) {
    ack_deadline_ = Time::max();
    ack_pending_ = true;
  }
  switch (state_) {
    case State::Closed: return result;
    case State::Connecting:
      if (now >= state_deadline_) reset_and_close(SeqNumber{0});
      return result;
    case State::SynSent:
    case State::SynReceived:
      if (now < state_deadline_) return result;
      if (syn_retries_ >= config_.syn_ack_retries) {
        // An active open synchronized nothing: there is no reset to send.
        if (state_ == State::SynSent) {
          close();
        } else {
          reset_and_close(next_seq());
        }
        return result;
      }
      ++syn_retries_;
      rtt_.on_retransmit();
      syn_pending_ = true;
      syn_timeout_ *= 2;
      state_deadline_ = now + syn_timeout_;
      return result;
    case State::TimeWait:
      if (now >= state_deadline_) close();
      return result;
    case State::Established:
    case State::CloseWait:
      if (now >= last_segment_ + config_.idle_timeout) {
        reset_and_close(next_seq());
        return result;
      }
      break;
    case State::FinWait1:
    case State::FinWait2:
    case State::Closing:
    case State::LastAck:
      if (now >= state_deadline_) {
        reset_and_close(next_seq());
        return result;
      }
      break;
  }
  if (now < retransmit_deadline_) return result;
  if (snd_wnd_ == 0 && in_flight() == 0 && !fin_sent_) {
    probe_pending_ = true;  // persist timer: a zero window never closes the flow
  } else {
    result.rewind = in_flight() > 0;
    rewind();
  }
  rtt_.back_off();
  update_retransmit_timer(now, true);
  return result;
}

TimeWait Endpoint::time_wait() const {
  return TimeWait(next_seq(), rcv_nxt_, static_cast<std::uint16_t>(window_field(false)),
                  advertised_window(), state_deadline_, config_.time_wait);
}

std::uint32_t Endpoint::advertised_window() const {
  return window_field(false) << options_.receive_shift;
}

SeqNumber Endpoint::next_seq() const { return snd_nxt_ + ((fin_sent_ || fin_acked_) ? 1 : 0); }

bool Endpoint::fin_due() const {
  return host_closed_ && !fin_sent_ && !fin_acked_ && snd_nxt_ == fin_seq_ &&
         (state_ == State::FinWait1 || state_ == State::Closing || state_ == State::LastAck);
}

bool Endpoint::receives_text() const {
  return state_ == State::Established || state_ == State::FinWait1 || state_ == State::FinWait2;
}

// RFC 9293 3.10.7.4, the four cases of segment length and receive window.
bool Endpoint::acceptable(const Segment& segment, std::uint32_t window) const {
  const auto length =
      static_cast<std::uint32_t>(segment.payload.size()) + ((segment.flags & kFin) ? 1 : 0);
  const auto in_window = [&](SeqNumber seq) { return seq.in_window(rcv_nxt_, window); };
  if (length == 0) return window == 0 ? segment.seq == rcv_nxt_ : in_window(segment.seq);
  if (window == 0) return false;
  return in_window(segment.seq) || in_window(segment.seq + length - 1);
}

// The window field for the next segment: the free space, but never less than
// the edge already advertised (rounded up so scaling cannot pull it back).
// RFC 7323 2.2: a SYN segment's window is never scaled.
std::uint32_t Endpoint::window_field(bool syn) const {
  const std::uint8_t shift = syn ? 0 : options_.receive_shift;
  const std::uint32_t advertised = rcv_nxt_.until(rcv_adv_);
  const std::uint32_t unit = (std::uint32_t{1} << shift) - 1;
  const std::uint32_t field = std::max(receive_space_ >> shift, (advertised + unit) >> shift);
  return std::min(field, kMaxWindowField);
}

std::uint16_t Endpoint::take_window(bool syn) {
  // Every segment that carries our window carries the ACK too.
  ack_delayed_ = false;
  ack_deadline_ = Time::max();
  const std::uint32_t field = window_field(syn);
  const SeqNumber edge = rcv_nxt_ + (field << (syn ? 0 : options_.receive_shift));
  if (edge > rcv_adv_) rcv_adv_ = edge;
  return static_cast<std::uint16_t>(field);
}

// RFC 5961 3.2: only an exact RST resets; one merely in the window gets a
// challenge ACK (a genuine peer answers it with an exact RST).
void Endpoint::handle_reset(const Segment& segment, Input& input) {
  if (segment.seq == rcv_nxt_) {
    close();
    input.reset = true;
  } else if (segment.seq > rcv_nxt_ && segment.seq < rcv_nxt_ + advertised_window()) {
    ack_pending_ = true;
  }
}

// ACK processing for synchronized states (RFC 9293 3.10.7.4 "fifth, check
// the ACK field"). Returns false when the segment must be dropped.
bool Endpoint::process_ack(const Segment& segment, Time now, Input& input) {
  const SeqNumber una = snd_una_ + (fin_acked_ ? 1 : 0);
  const SeqNumber limit = snd_max_ + (fin_ever_sent_ ? 1 : 0);
  // RFC 9293: an ACK of something not yet sent gets an ACK; RFC 5961 5.2: so
  // does one older than the largest window the device ever offered.
  if (segment.ack > limit || segment.ack < una - max_snd_wnd_) {
    ack_pending_ = true;
    return false;
  }
  const std::uint32_t window = std::uint32_t{segment.window} << options_.send_shift;
  const bool duplicate = segment.ack == una && segment.payload.empty() && !(segment.flags & kFin) &&
                         window == snd_wnd_ && in_flight() > 0;
  bool acked_new = false;
  if (segment.ack > una) {
    const bool fin_covered = fin_ever_sent_ && segment.ack == fin_seq_ + 1;
    const SeqNumber data_end = fin_covered ? fin_seq_ : segment.ack;
    input.acked = data_end - snd_una_;
    rtt_.on_ack(data_end, now);
    snd_una_ = data_end;
    // An ACK for data sent before a rewind moves the resend point along.
    if (snd_nxt_ < snd_una_) snd_nxt_ = snd_una_;
    dup_acks_ = 0;
    acked_new = true;
    if (fin_covered) {
      fin_acked_ = true;
      on_fin_acked(now);
      if (closed()) return false;
    }
  } else if (duplicate && ++dup_acks_ == kDuplicateAckThreshold) {
    rewind();  // fast retransmit, go-back-N
    input.rewind = true;
  }
  // Window update (RFC 9293 3.10.7.4): only from an ACK that is not old and
  // a segment not older than the one that last set the window.
  bool window_grew = false;
  if (segment.ack >= snd_una_ + (fin_acked_ ? 1 : 0) &&
      (snd_wl1_ < segment.seq || (snd_wl1_ == segment.seq && snd_wl2_ <= segment.ack))) {
    window_grew = window > snd_wnd_;
    snd_wnd_ = window;
    max_snd_wnd_ = std::max(max_snd_wnd_, window);
    snd_wl1_ = segment.seq;
    snd_wl2_ = segment.ack;
  }
  if (input.acked > 0 || window_grew || input.rewind) input.can_send_more = true;
  update_retransmit_timer(now, acked_new);  // RFC 6298 5.2, 5.3
  return true;
}

void Endpoint::on_fin_acked(Time now) {
  switch (state_) {
    case State::FinWait1: state_ = State::FinWait2; break;
    case State::Closing: enter_time_wait(now); break;
    case State::LastAck: close(); break;
    default: break;
  }
}

// Text and FIN: only in order, trimmed to the window; anything else gets an
// immediate ACK so that the device fast-retransmits what we lack.
void Endpoint::receive_text(const Segment& segment, Input& input) {
  if (!receives_text()) return;  // RFC 9293: text after the device's FIN is ignored
  wire::Bytes payload = segment.payload;
  bool fin = segment.flags & kFin;
  if (segment.seq < rcv_nxt_) {
    const std::size_t old = rcv_nxt_ - segment.seq;
    if (old > payload.size()) {
      ack_pending_ = true;
      return;
    }
    payload = payload.subspan(old);
  } else if (segment.seq != rcv_nxt_) {
    // A hole before this segment: hold it, and send a duplicate ACK at once
    // so the device retransmits the hole quickly (RFC 5681 4.2).
    if (!payload.empty() || fin) {
      ack_pending_ = true;
      input.out_of_order = true;
      assembler_.hold(segment.seq - rcv_nxt_, payload, fin, advertised_window());
    }
    return;
  }
  const std::uint32_t window = advertised_window();
  if (payload.size() > window) {
    payload = payload.first(window);
    fin = false;
  }
  input.data = payload;
  pending_data_ = payload.size();
  pending_fin_ = fin;
}

std::optional<wire::Bytes> Endpoint::take_reassembled() {
  if (pending_data_ != 0 || pending_fin_ || !receives_text()) return std::nullopt;
  auto next = assembler_.contiguous();
  if (!next) return std::nullopt;
  pending_data_ = next->bytes.size();
  pending_fin_ = next->fin;
  return next->bytes;
}

void Endpoint::enter_time_wait(Time now) {
  state_ = State::TimeWait;
  state_deadline_ = now + config_.time_wait;
  retransmit_deadline_ = Time::max();
}

// Go-back-N: everything unacknowledged is sent again, the FIN after it.
void Endpoint::rewind() {
  snd_nxt_ = snd_una_;
  if (!fin_acked_) fin_sent_ = false;
  rtt_.on_retransmit();
}

// The retransmission timer runs while data or our FIN is unacknowledged; as
// the persist timer it also runs on a zero device window (RFC 9293 3.8.6.1).
void Endpoint::update_retransmit_timer(Time now, bool restart) {
  const bool outstanding = snd_max_ > snd_una_ || (fin_ever_sent_ && !fin_acked_);
  const bool persist = snd_wnd_ == 0 && !host_closed_ &&
                       (state_ == State::Established || state_ == State::CloseWait);
  if (!outstanding && !persist) {
    retransmit_deadline_ = Time::max();
  } else if (restart || retransmit_deadline_ == Time::max()) {
    retransmit_deadline_ = now + rtt_.rto();
  }
}

void Endpoint::close() {
  state_ = State::Closed;
  syn_pending_ = false;
  ack_delayed_ = false;
  ack_deadline_ = Time::max();
  ack_pending_ = false;
  probe_pending_ = false;
  pending_data_ = 0;
  pending_fin_ = false;
  assembler_.clear();
  retransmit_deadline_ = Time::max();
}

void Endpoint::reset_and_close(SeqNumber seq) {
  close();
  reset_ = reset_segment(seq, rcv_nxt_, kRst | kAck);
}

}  // namespace rtether::tcp
