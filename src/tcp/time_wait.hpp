// tcp::TimeWait: what is left of a connection in TIME-WAIT, and nothing
// more. A finished Endpoint carries windows, timers, reassembly and
// retransmission state it will never use again; for the 2 MSL of TIME-WAIT
// the relay keeps only this (as Linux keeps an inet_timewait_sock in place
// of the full socket), so a burst of short connections that the host
// closes first costs a few dozen bytes each while they linger.
//
// It answers device segments exactly as Endpoint does in TimeWait:
//   RST at rcv_nxt            -> closed (the device aborted; nothing to send)
//   RST inside the window     -> challenge ACK (RFC 5961 3.2)
//   other RST                 -> dropped
//   SYN                       -> challenge ACK (RFC 5961 4.2); a bare SYN that
//                                may reuse the 5-tuple is the caller's to
//                                take first (RFC 6191)
//   anything else             -> ACK; a FIN (a retransmission: our ACK of the
//                                device's FIN was lost) restarts 2 MSL
//                                (RFC 9293 3.10.7.4)
// Pure like Endpoint: no I/O, time passed in.
#pragma once

#include <cstdint>
#include <optional>

#include "tcp/clock.hpp"
#include "tcp/segment.hpp"
#include "tcp/seq_number.hpp"

namespace rtether::tcp {

class TimeWait {
 public:
  // `seq`: our next sequence number (past our FIN); `rcv_nxt`: past the
  // device's FIN; `window_field`: the raw window our ACKs carry, worth
  // `window` bytes after scaling. TIME-WAIT ends at `deadline`; a
  // retransmitted FIN moves it to `duration` (2 MSL) after its arrival.
  // Endpoint::time_wait() makes one from a connection in TimeWait.
  TimeWait(SeqNumber seq, SeqNumber rcv_nxt, std::uint16_t window_field, std::uint32_t window,
           Time deadline, Duration duration);

  struct Reply {
    std::optional<OutSegment> segment;  // the ACK to send, if any
    bool closed = false;                // the device reset the connection
  };
  Reply on_segment(const Segment& segment, Time now);

  // 2 MSL from `now` (a holder that keeps records in deadline order starts
  // each from when it takes it).
  void restart(Time now) { deadline_ = now + duration_; }
  // The end of 2 MSL: the record may go then.
  Time deadline() const { return deadline_; }

 private:
  OutSegment ack() const;

  SeqNumber seq_;
  SeqNumber rcv_nxt_;
  std::uint32_t window_;
  std::uint16_t window_field_;
  Duration duration_;
  Time deadline_;
};

}  // namespace rtether::tcp
