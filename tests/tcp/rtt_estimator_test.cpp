// tcp::RttEstimator: RFC 6298's initial RTO, first and later samples, the
// clock-granularity floor, the min/max clamps, back-off, and Karn's rule.
#include <gtest/gtest.h>

#include "tcp/rtt_estimator.hpp"

namespace rtether::tcp {
namespace {

using namespace std::chrono_literals;

const Time kStart = Time{} + std::chrono::hours(1);
constexpr SeqNumber kSeq{1000};

RttEstimator estimator() { return RttEstimator(200ms, 60s); }

// One segment of new data [kSeq + from, kSeq + to) timed from `sent` and
// acknowledged at `acked`.
void measure(RttEstimator& rtt, Duration round_trip, std::uint32_t from = 0,
             std::uint32_t to = 100) {
  rtt.on_send(kSeq + from, kSeq + to, kStart);
  rtt.on_ack(kSeq + to, kStart + round_trip);
}

TEST(TcpRttEstimator, InitialRtoIsOneSecond) {
  RttEstimator rtt = estimator();
  EXPECT_EQ(rtt.rto(), 1s);  // RFC 6298 2.1
  EXPECT_FALSE(rtt.smoothed_rtt());
}

TEST(TcpRttEstimator, InitialRtoIsClampedToTheLimits) {
  EXPECT_EQ(RttEstimator(2s, 60s).rto(), 2s);
  EXPECT_EQ(RttEstimator(10ms, 500ms).rto(), 500ms);
}

TEST(TcpRttEstimator, FirstSampleSetsSrttAndHalfOfItAsVariation) {
  RttEstimator rtt = estimator();
  measure(rtt, 100ms);
  EXPECT_EQ(rtt.smoothed_rtt(), Duration{100ms});
  EXPECT_EQ(rtt.rtt_variation(), 50ms);
  EXPECT_EQ(rtt.rto(), 300ms);  // RFC 6298 2.2: SRTT + 4 RTTVAR
}

TEST(TcpRttEstimator, LaterSamplesAreSmoothed) {
  RttEstimator rtt = estimator();
  measure(rtt, 100ms, 0, 100);
  measure(rtt, 200ms, 100, 200);
  // RFC 6298 2.3: RTTVAR = 3/4 * 50 + 1/4 * |100 - 200|, SRTT = 7/8 * 100 + 1/8 * 200.
  EXPECT_EQ(rtt.rtt_variation(), 62500us);
  EXPECT_EQ(rtt.smoothed_rtt(), Duration{112500us});
  EXPECT_EQ(rtt.rto(), 112500us + 4 * 62500us);
}

TEST(TcpRttEstimator, ClockGranularityKeepsRtoAboveSrtt) {
  RttEstimator rtt(0ms, 60s);
  for (std::uint32_t i = 0; i < 100; ++i) measure(rtt, 10ms, i * 100, i * 100 + 100);
  EXPECT_EQ(rtt.smoothed_rtt(), Duration{10ms});
  EXPECT_LT(4 * rtt.rtt_variation(), 1ms);
  EXPECT_EQ(rtt.rto(), 11ms);  // SRTT + G
}

TEST(TcpRttEstimator, RtoIsClampedToTheMinimum) {
  RttEstimator rtt = estimator();
  measure(rtt, 1ms);
  EXPECT_EQ(rtt.rto(), 200ms);
}

TEST(TcpRttEstimator, RtoIsClampedToTheMaximum) {
  RttEstimator rtt = estimator();
  measure(rtt, 30s);
  EXPECT_EQ(rtt.rto(), 60s);
}

TEST(TcpRttEstimator, BackOffDoublesUpToTheMaximum) {
  RttEstimator rtt = estimator();
  rtt.back_off();
  EXPECT_EQ(rtt.rto(), 2s);
  for (int i = 0; i < 10; ++i) rtt.back_off();
  EXPECT_EQ(rtt.rto(), 60s);
}

TEST(TcpRttEstimator, SampleAfterBackOffRecomputesTheRto) {
  RttEstimator rtt = estimator();
  rtt.back_off();
  rtt.back_off();
  measure(rtt, 100ms);
  EXPECT_EQ(rtt.rto(), 300ms);
}

TEST(TcpRttEstimator, AckShortOfTheTimedSegmentIsNoSample) {
  RttEstimator rtt = estimator();
  rtt.on_send(kSeq, kSeq + 100, kStart);
  rtt.on_ack(kSeq + 99, kStart + 10ms);
  EXPECT_FALSE(rtt.smoothed_rtt());
  rtt.on_ack(kSeq + 100, kStart + 20ms);
  EXPECT_EQ(rtt.smoothed_rtt(), Duration{20ms});
}

TEST(TcpRttEstimator, OneSegmentIsTimedAtATime) {
  RttEstimator rtt = estimator();
  rtt.on_send(kSeq, kSeq + 100, kStart);
  rtt.on_send(kSeq + 100, kSeq + 200, kStart + 5ms);
  rtt.on_ack(kSeq + 200, kStart + 30ms);
  EXPECT_EQ(rtt.smoothed_rtt(), Duration{30ms}) << "timed from the first segment";
  rtt.on_ack(kSeq + 200, kStart + 40ms);
  EXPECT_EQ(rtt.smoothed_rtt(), Duration{30ms}) << "nothing timed any more";
}

// Karn's rule (RFC 6298 3), as the endpoint applies it: a rewind or a resent
// SYN-ACK calls on_retransmit(), and the resent bytes are sent again.
TEST(TcpRttEstimator, RetransmissionCancelsTheTimingUnderWay) {
  RttEstimator rtt = estimator();
  rtt.on_send(kSeq, kSeq + 100, kStart);
  rtt.on_retransmit();
  rtt.on_send(kSeq, kSeq + 100, kStart + 1s);
  rtt.on_ack(kSeq + 100, kStart + 1s + 10ms);
  EXPECT_FALSE(rtt.smoothed_rtt()) << "the ACK may answer either transmission";
  EXPECT_EQ(rtt.rto(), 1s);
}

TEST(TcpRttEstimator, ResentBytesAreNeverTimedButNewDataIs) {
  RttEstimator rtt = estimator();
  rtt.on_send(kSeq, kSeq + 100, kStart);
  rtt.on_send(kSeq + 100, kSeq + 200, kStart);
  rtt.on_retransmit();
  rtt.on_send(kSeq + 100, kSeq + 200, kStart + 1s);  // resent while nothing is timed
  rtt.on_ack(kSeq + 200, kStart + 1s + 10ms);
  EXPECT_FALSE(rtt.smoothed_rtt());
  rtt.on_send(kSeq + 200, kSeq + 300, kStart + 2s);
  rtt.on_ack(kSeq + 300, kStart + 2s + 40ms);
  EXPECT_EQ(rtt.smoothed_rtt(), Duration{40ms});
}

TEST(TcpRttEstimator, TimesAcrossSequenceWraparound) {
  RttEstimator rtt = estimator();
  rtt.on_send(SeqNumber{0xFFFFFFF0}, SeqNumber{0x10}, kStart);
  rtt.on_ack(SeqNumber{0x10}, kStart + 50ms);
  EXPECT_EQ(rtt.smoothed_rtt(), Duration{50ms});
}

}  // namespace
}  // namespace rtether::tcp
