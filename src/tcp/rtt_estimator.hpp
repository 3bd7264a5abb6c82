// tcp::RttEstimator: the retransmission timeout of RFC 6298 as a value. It
// times one segment at a time, smooths the samples (SRTT, RTTVAR), backs
// off on a timeout and clamps the result to the configured limits. Karn's
// rule (RFC 6298 3) lives here too: only a segment of new data is timed,
// and a retransmission cancels the timing under way, so that an ACK which
// may answer either transmission never becomes a sample.
#pragma once

#include <optional>

#include "tcp/clock.hpp"
#include "tcp/seq_number.hpp"

namespace rtether::tcp {

class RttEstimator {
 public:
  // RTO starts at RFC 6298 2.1's 1 s, clamped to [min_rto, max_rto].
  RttEstimator(Duration min_rto, Duration max_rto);

  Duration rto() const { return rto_; }
  std::optional<Duration> smoothed_rtt() const { return srtt_; }  // none before a sample
  Duration rtt_variation() const { return rttvar_; }

  // Sequence numbers [start, end) went out at `now`. Timed when nothing else
  // is and when none of it was sent before (start >= everything sent so far).
  void on_send(SeqNumber start, SeqNumber end, Time now);
  // Everything before `ack` is acknowledged: a sample when that covers the
  // timed segment.
  void on_ack(SeqNumber ack, Time now);
  // What was sent goes out again: the timed segment's ACK is ambiguous now.
  void on_retransmit() { timing_ = false; }
  // RFC 6298 5.5: the timer expired; the next sample recomputes the RTO.
  void back_off();

 private:
  void sample(Duration rtt);

  Duration min_rto_;
  Duration max_rto_;
  Duration rto_;
  std::optional<Duration> srtt_;
  Duration rttvar_{};

  std::optional<SeqNumber> highest_sent_;  // end of everything ever sent
  bool timing_ = false;
  SeqNumber timed_end_;  // the timed segment is acknowledged once ack >= this
  Time timed_since_{};
};

}  // namespace rtether::tcp
