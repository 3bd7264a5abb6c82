// tcp::RttEstimator: RFC 6298 sections 2 (the computation), 3 (Karn's rule
// for taking samples) and 5.5 (back-off).
#include "tcp/rtt_estimator.hpp"

#include <algorithm>

namespace rtether::tcp {
namespace {

using namespace std::chrono_literals;

constexpr Duration kInitialRto = 1s;         // RFC 6298 2.1
constexpr Duration kClockGranularity = 1ms;  // G of RFC 6298 2.3: keeps RTO above SRTT

}  // namespace

RttEstimator::RttEstimator(Duration min_rto, Duration max_rto)
    : min_rto_(min_rto), max_rto_(max_rto), rto_(std::clamp(kInitialRto, min_rto, max_rto)) {}

void RttEstimator::on_send(SeqNumber start, SeqNumber end, Time now) {
  const bool new_data = !highest_sent_ || start >= *highest_sent_;
  if (!highest_sent_ || end > *highest_sent_) highest_sent_ = end;
  if (timing_ || !new_data) return;
  timing_ = true;
  timed_end_ = end;
  timed_since_ = now;
}

void RttEstimator::on_ack(SeqNumber ack, Time now) {
  if (!timing_ || ack < timed_end_) return;
  timing_ = false;
  sample(now - timed_since_);
}

void RttEstimator::back_off() { rto_ = std::min(rto_ * 2, max_rto_); }

// RFC 6298 2.2 (first sample) and 2.3 (later ones), alpha 1/8, beta 1/4, K 4.
void RttEstimator::sample(Duration rtt) {
  if (!srtt_) {
    srtt_ = rtt;
    rttvar_ = rtt / 2;
  } else {
    const Duration error = *srtt_ > rtt ? *srtt_ - rtt : rtt - *srtt_;
    rttvar_ = (3 * rttvar_ + error) / 4;
    srtt_ = (7 * *srtt_ + rtt) / 8;
  }
  rto_ = std::clamp(*srtt_ + std::max(kClockGranularity, 4 * rttvar_), min_rto_, max_rto_);
}

}  // namespace rtether::tcp
