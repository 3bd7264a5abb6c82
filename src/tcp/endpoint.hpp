// tcp::Endpoint: the device-facing half of one relayed TCP connection, as a
// pure state machine (no I/O, time passed in). The relay owns the host socket
// and the packet buffers; the endpoint owns sequence numbers, windows,
// retransmission and the connection state.
//
// Lifecycle (the relay is the passive side, RFC 9293 section 3.3.2):
//   Endpoint::passive(device SYN) -> Connecting (relay starts a non-blocking
//                                   host connect; nothing is sent yet)
//   on_connected -> SynReceived    (SYN-ACK queued; resent on timeout or on a
//                                   repeated SYN)
//   on_connect_failed / timeout -> Closed (RST queued)
//   device ACK of SYN-ACK -> Established
//   device FIN  -> CloseWait       (relay does shutdown(SHUT_WR) on the host)
//   host_closed in CloseWait -> LastAck (FIN after all data) -> Closed on ACK
//   host_closed in Established -> FinWait1 -> FinWait2 -> (device FIN) TimeWait
//   RST either way -> Closed
//
// Active open (port forwarding: a host connection is relayed to a server on
// the device, RFC 9293 3.3.2 from CLOSED via OPEN):
//   Endpoint::active() -> SynSent   (SYN with MSS and window scale queued;
//                                    resent on timeout, doubling)
//   device SYN-ACK acking our SYN -> Established (ACK queued)
//   device segment acking something else (a stale connection's challenge
//   ACK) -> RST <SEQ=SEG.ACK> without ACK queued, still SynSent
//   device RST acking our SYN, or no answer after config.syn_ack_retries
//   resends -> Closed (the relay resets the host connection)
//
// Data toward the device is never copied into the endpoint: the relay peeks it
// from the host socket (MSG_PEEK with SO_PEEK_OFF) and asks send_data() for the
// header of each segment. Unacknowledged data therefore stays in the host
// socket's receive queue; acked() tells the relay how much to discard, and a
// retransmission (timeout or three duplicate ACKs) rewinds snd_nxt to snd_una,
// after which the relay resets its peek offset to 0 and sends again.
//
// Data from the device is acknowledged only once the relay has taken it
// (accept()); the advertised window is the relay's real free buffer space
// (set_receive_space()), scaled per RFC 7323 when the device offered scaling.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "tcp/assembler.hpp"
#include "tcp/clock.hpp"
#include "tcp/rtt_estimator.hpp"
#include "tcp/segment.hpp"
#include "tcp/seq_number.hpp"
#include "tcp/syn_options.hpp"
#include "tcp/time_wait.hpp"
#include "wire/bytes.hpp"

namespace rtether::tcp {

using namespace std::chrono_literals;

enum class State : std::uint8_t {
  SynSent,      // active open: our SYN sent, waiting for the device's SYN-ACK
  Connecting,   // SYN seen, host connect in progress
  SynReceived,  // SYN-ACK sent
  Established,
  CloseWait,    // device sent FIN
  LastAck,      // device FIN'd, our FIN sent
  FinWait1,     // our FIN sent first
  FinWait2,     // our FIN acked, waiting for the device's
  Closing,      // both FINs sent, ours not acked yet
  TimeWait,     // both done; absorbs retransmitted FINs briefly
  Closed,       // flow may be removed
};
const char* to_string(State state);

struct Config {
  std::uint16_t mss = 1460;                    // our MSS: link MTU - IP - TCP headers
  std::uint32_t receive_buffer = 1024 * 1024;  // most device bytes the relay buffers per flow
  std::chrono::milliseconds connect_timeout = 30s;
  std::chrono::milliseconds syn_ack_timeout = 1s;   // first SYN-ACK resend, doubling
  int syn_ack_retries = 5;
  std::chrono::milliseconds min_rto = 200ms;        // RFC 6298 allows 1 s; the link is local
  std::chrono::milliseconds max_rto = 60s;
  std::chrono::milliseconds idle_timeout = 2h;      // Established without any segment
  std::chrono::milliseconds closing_timeout = 60s;  // FinWait/Closing/LastAck limit
  std::chrono::milliseconds time_wait = 2s;
  // RFC 1122 4.2.3.2 / RFC 9293 3.8.6.3: the ACK of a lone data segment may
  // wait this long for data of ours to carry it (a request's response);
  // a second segment, a FIN, a gap or a window change is ACKed at once.
  // 0 acknowledges every segment at once.
  std::chrono::microseconds delayed_ack{0};
};

class Endpoint {
 public:
  // Both opens take the same Config and our ISS (initial_seq: random,
  // chosen by the caller), and share one construction path.
  // Passive open, from the device's SYN: Connecting, nothing queued yet.
  static Endpoint passive(const Segment& syn, const Config& config, SeqNumber initial_seq,
                          Time now);
  // Active open toward the device: SynSent, our SYN queued for poll().
  static Endpoint active(const Config& config, SeqNumber initial_seq, Time now);

  State state() const { return state_; }
  bool closed() const { return state_ == State::Closed; }

  // Host connect outcome. Success queues the SYN-ACK; failure queues an RST
  // (the device sees "connection refused" at once) and closes.
  void on_connected(Time now);
  void on_connect_failed(Time now);

  struct Input {
    wire::Bytes data;          // new in-order payload for the host; call accept() next
    std::uint32_t acked = 0;   // bytes of our DATA newly acked (SYN/FIN not counted):
                               // the relay discards this many from the host socket
    bool reset = false;        // device sent a valid RST: abort the host socket; now Closed
    bool can_send_more = false;  // window opened or data acked: try sending host data
    bool rewind = false;         // three duplicate ACKs (fast retransmit, RFC 5681 3.2):
                                 // snd_nxt went back to snd_una, as TimerResult::rewind
    bool out_of_order = false;   // data after a hole: held for take_reassembled()
  };
  // A device segment for this flow. Invalid or out-of-window segments are
  // answered (ACK / challenge ACK / dup ACK queued) and yield empty Input.
  Input on_segment(const Segment& segment, Time now);

  // The relay took `bytes` (<= Input::data.size()) of the last Input::data.
  // Advances rcv_nxt and queues an ACK. Returns true when the device's FIN,
  // which followed that data, is consumed too (only if all data was taken):
  // the relay must then shutdown(SHUT_WR) the host socket. Call it after every
  // Input, even with empty data: a FIN that came alone is consumed by accept(0).
  bool accept(std::size_t bytes, Time now);

  // Device data that arrived out of order is kept (RFC 9293 3.10.7.4: "segments
  // with higher beginning sequence numbers may be held"), bounded by the
  // advertised window. Once accept() has taken everything offered, held data
  // that now continues the stream comes out here: the next contiguous bytes
  // (possibly empty when only a held FIN follows), valid until the next
  // accept(), which must follow exactly as for Input::data; nullopt when
  // nothing held continues the stream.
  std::optional<wire::Bytes> take_reassembled();
  std::size_t out_of_order_bytes() const { return assembler_.held_bytes(); }

  // Free buffer space for device data; sets the advertised window. A window
  // that reopens from below one MSS queues a window update.
  void set_receive_space(std::uint32_t bytes);

  // Bytes of host data that may be sent now: the device's window minus what
  // is in flight, 0 outside states that send data. After host_closed() only
  // data being resent after a rewind (up to where the FIN goes) is allowed.
  std::uint32_t send_allowance() const;
  // Largest payload per segment: min(our MSS, the device's MSS).
  std::uint16_t max_segment() const { return options_.send_mss; }
  // Bytes sent and not yet acknowledged (== the relay's peek offset).
  std::uint32_t in_flight() const;
  // Header for `bytes` (>0, <= send_allowance(), <= max_segment()) of new
  // data at snd_nxt; advances snd_nxt and arms the retransmission timer.
  // `last`: the host's EOF follows these bytes (host_closed() is implied),
  // and the FIN rides on this segment instead of one of its own.
  OutSegment send_data(std::uint32_t bytes, Time now, bool last = false);

  // The host sent EOF (all its data has been sent with send_data()): a FIN
  // follows the data. host_reset(): the host aborted: RST to the device, Closed.
  void host_closed(Time now);
  void host_reset(Time now);
  // Abort from the relay (limits, client gone): RST queued, Closed.
  void abort(Time now);

  // Next control segment to send (SYN-ACK, ACK, window update, FIN, RST,
  // zero-window probe), or nullopt. Call until nullopt after every input.
  std::optional<OutSegment> poll(Time now);

  // When on_timer() must next be called (Time::max() when no timer runs).
  Time deadline() const;
  struct TimerResult {
    bool rewind = false;  // snd_nxt went back to snd_una: reset the peek offset to 0 and resend
  };
  // Retransmits the SYN-ACK or FIN, rewinds data, probes a zero window,
  // expires connect/idle/closing timeouts (RST queued, Closed).
  TimerResult on_timer(Time now);

  std::uint32_t advertised_window() const;  // in bytes, unscaled

  // In TimeWait with nothing left to poll(): the compact record that
  // answers the device from here on exactly as this endpoint would, with
  // the same 2 MSL deadline (tcp/time_wait.hpp). The endpoint itself may
  // then go.
  TimeWait time_wait() const;

  // Sequence variables, for tests and diagnostics (data space: our SYN and
  // FIN are not counted in snd_una/snd_nxt).
  SeqNumber snd_una() const { return snd_una_; }
  SeqNumber snd_nxt() const { return snd_nxt_; }
  SeqNumber rcv_nxt() const { return rcv_nxt_; }
  std::uint32_t send_window() const { return snd_wnd_; }  // device window, scaled, in bytes

 private:
  Endpoint(State state, const Config& config, const SynOptions& our_syn, SeqNumber initial_seq,
           Time now);
  void take_device_syn(const Segment& syn);
  void queue_syn(Time now);
  void establish(Time now);
  Input on_syn_sent(const Segment& segment, Time now);
  SeqNumber next_seq() const;
  Time state_timer_deadline() const;
  bool fin_due() const;
  bool receives_text() const;
  bool acceptable(const Segment& segment, std::uint32_t window) const;
  std::uint32_t window_field(bool syn) const;
  std::uint16_t take_window(bool syn);
  void handle_reset(const Segment& segment, Input& input);
  bool process_ack(const Segment& segment, Time now, Input& input);
  void on_fin_acked(Time now);
  void receive_text(const Segment& segment, Input& input);
  void enter_time_wait(Time now);
  void rewind();
  void update_retransmit_timer(Time now, bool restart);
  void close();
  void reset_and_close(SeqNumber seq);

  Config config_;
  State state_ = State::Connecting;
  SynOptions our_syn_;         // what our SYN or SYN-ACK carries
  NegotiatedOptions options_;  // from both SYNs; the defaults until the device's is seen

  // Receive side (RFC 9293 3.3.1). rcv_adv_ is the right edge of the window
  // last advertised, which never moves left (RFC 9293 3.8.6.2.2).
  SeqNumber irs_;
  SeqNumber rcv_nxt_;
  SeqNumber rcv_adv_;
  std::uint32_t receive_space_ = 0;
  std::size_t pending_data_ = 0;  // size of the last Input::data, until accept()
  bool pending_fin_ = false;      // the device's FIN follows that data
  Assembler assembler_;  // out-of-order data; its next expected byte is rcv_nxt_

  // Send side, in data sequence space: snd_max_ is the highest snd_nxt ever
  // reached (snd_nxt_ goes back on a rewind); fin_seq_ is where our FIN goes.
  SeqNumber iss_;
  SeqNumber snd_una_;
  SeqNumber snd_nxt_;
  SeqNumber snd_max_;
  std::uint32_t snd_wnd_ = 0;
  std::uint32_t max_snd_wnd_ = 0;  // RFC 5961 5.2 MAX.SND.WND
  SeqNumber snd_wl1_;
  SeqNumber snd_wl2_;
  SeqNumber fin_seq_;
  bool host_closed_ = false;
  bool fin_sent_ = false;        // our FIN is out since the last rewind
  bool fin_ever_sent_ = false;   // the device may have seen our FIN
  bool fin_acked_ = false;
  int dup_acks_ = 0;

  // Pending control segments, returned by poll() in this order.
  std::optional<OutSegment> reset_;  // a RST, sent before anything else
  bool syn_pending_ = false;  // our SYN or SYN-ACK (first or resent)
  bool ack_pending_ = false;
  bool ack_delayed_ = false;            // one data segment is waiting for its ACK
  Time ack_deadline_ = Time::max();     // when that ACK goes out anyway
  bool probe_pending_ = false;

  // Retransmission (RFC 6298); our SYN or SYN-ACK is timed like data.
  RttEstimator rtt_;
  Time retransmit_deadline_ = Time::max();  // also the persist timer

  // SYN or SYN-ACK retransmission, with its own doubling timeout.
  Clock::duration syn_timeout_{};
  int syn_retries_ = 0;

  // Connect timeout (Connecting), SYN or SYN-ACK resend (SynSent,
  // SynReceived), closing timeout (FinWait1/FinWait2/Closing/LastAck) or
  // 2 MSL end (TimeWait).
  Time state_deadline_{};
  Time last_segment_{};  // idle timeout in Established/CloseWait
};

}  // namespace rtether::tcp
