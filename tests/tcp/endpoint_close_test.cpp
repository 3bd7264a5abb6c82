// tcp::Endpoint closing: half-close in both directions, FIN retransmission,
// TimeWait, RSTs both ways (RFC 5961 3.2 challenge ACKs), SYN and ACK
// checks on a synchronized connection, idle and closing timeouts.
#include <gtest/gtest.h>

#include "tcp/endpoint_fixtures.hpp"

namespace rtether::tcp {
namespace {

using namespace fixtures;

constexpr auto kMinRto = 200ms;

TEST(TcpEndpointCloseWait, DeviceFinLeavesOurSideOpenForData) {
  Endpoint endpoint = close_wait();
  EXPECT_EQ(endpoint.state(), State::CloseWait);
  EXPECT_EQ(endpoint.rcv_nxt(), kIrs + 2);
  OutSegment data = endpoint.send_data(500, kStart);
  EXPECT_EQ(data.ack, kIrs + 2);
  Endpoint::Input input =
      endpoint.on_segment(device_segment(kIrs + 2, kIss + 501, kAck, 1000), kStart);
  EXPECT_EQ(input.acked, 500u);
}

TEST(TcpEndpointCloseWait, HostCloseSendsFinAndMovesToLastAck) {
  Endpoint endpoint = close_wait();
  endpoint.host_closed(kStart);
  EXPECT_EQ(endpoint.state(), State::LastAck);
  EXPECT_EQ(endpoint.send_allowance(), 0u);
  auto fin = endpoint.poll(kStart);
  ASSERT_TRUE(fin);
  EXPECT_EQ(fin->flags, kFin | kAck);
  EXPECT_EQ(fin->seq, kIss + 1);
  EXPECT_EQ(fin->ack, kIrs + 2);
  EXPECT_FALSE(endpoint.poll(kStart));
}

TEST(TcpEndpointCloseWait, DataAfterTheDeviceFinIsIgnored) {
  Endpoint endpoint = close_wait();
  EXPECT_TRUE(
      endpoint.on_segment(device_segment(kIrs + 2, kIss + 1, kAck, 1000, payload(10)), kStart)
          .data.empty());
}

TEST(TcpEndpointCloseWait, RetransmittedDeviceFinIsAcked) {
  Endpoint endpoint = close_wait();
  endpoint.on_segment(device_segment(kIrs + 1, kIss + 1, kAck | kFin, 1000), kStart);
  EXPECT_FALSE(endpoint.accept(0, kStart));
  EXPECT_EQ(endpoint.poll(kStart)->ack, kIrs + 2);
}

TEST(TcpEndpointLastAck, AckOfOurFinCloses) {
  Endpoint endpoint = last_ack();
  endpoint.on_segment(device_segment(kIrs + 2, kIss + 2, kAck, 1000), kStart);
  EXPECT_TRUE(endpoint.closed());
  EXPECT_FALSE(endpoint.poll(kStart));
  EXPECT_EQ(endpoint.deadline(), Time::max());
}

TEST(TcpEndpointLastAck, FinIsResentOnTimeout) {
  Endpoint endpoint = last_ack();
  EXPECT_EQ(endpoint.deadline(), kStart + kMinRto);
  EXPECT_FALSE(endpoint.on_timer(kStart + kMinRto).rewind);
  auto fin = endpoint.poll(kStart + kMinRto);
  ASSERT_TRUE(fin);
  EXPECT_EQ(fin->flags, kFin | kAck);
  EXPECT_EQ(fin->seq, kIss + 1);
}

TEST(TcpEndpointFinWait1, FinFollowsSentDataWithoutWaitingForAcks) {
  Endpoint endpoint = with_data_in_flight(1000);
  endpoint.host_closed(kStart);
  EXPECT_EQ(endpoint.state(), State::FinWait1);
  EXPECT_EQ(endpoint.send_allowance(), 0u);
  auto fin = endpoint.poll(kStart);
  ASSERT_TRUE(fin);
  EXPECT_EQ(fin->flags, kFin | kAck);
  EXPECT_EQ(fin->seq, kIss + 1001);
  EXPECT_EQ(endpoint.in_flight(), 1000u);  // the FIN is not data
}

TEST(TcpEndpointFinWait1, AckOfDataOnlyStaysInFinWait1) {
  Endpoint endpoint = with_data_in_flight(1000);
  endpoint.host_closed(kStart);
  drain(endpoint, kStart);
  Endpoint::Input input = endpoint.on_segment(device_ack(endpoint, kIss + 1001), kStart);
  EXPECT_EQ(input.acked, 1000u);
  EXPECT_EQ(endpoint.state(), State::FinWait1);
  input = endpoint.on_segment(device_ack(endpoint, kIss + 1002), kStart);
  EXPECT_EQ(input.acked, 0u);
  EXPECT_EQ(endpoint.state(), State::FinWait2);
}

TEST(TcpEndpointFinWait1, AckOfOurFinMovesToFinWait2) {
  Endpoint endpoint = fin_wait2();
  EXPECT_EQ(endpoint.state(), State::FinWait2);
  EXPECT_EQ(endpoint.deadline(), kStart + Config{}.closing_timeout);
}

TEST(TcpEndpointFinWait1, FinIsResentOnTimeout) {
  Endpoint endpoint = fin_wait1();
  endpoint.on_timer(kStart + kMinRto);
  auto fin = endpoint.poll(kStart + kMinRto);
  ASSERT_TRUE(fin);
  EXPECT_EQ(fin->seq, kIss + 1);
  EXPECT_EQ(endpoint.deadline(), kStart + 3 * kMinRto);
}

TEST(TcpEndpointFinWait1, RewindResendsDataThenTheFin) {
  Endpoint endpoint = with_data_in_flight(1000);
  endpoint.host_closed(kStart);
  drain(endpoint, kStart);
  EXPECT_TRUE(endpoint.on_timer(kStart + kMinRto).rewind);
  EXPECT_EQ(endpoint.send_allowance(), 1000u);  // exactly the data before the FIN
  EXPECT_FALSE(endpoint.poll(kStart + kMinRto));
  EXPECT_EQ(endpoint.send_data(1000, kStart + kMinRto).seq, kIss + 1);
  auto fin = endpoint.poll(kStart + kMinRto);
  ASSERT_TRUE(fin);
  EXPECT_EQ(fin->flags, kFin | kAck);
  EXPECT_EQ(fin->seq, kIss + 1001);
}

TEST(TcpEndpointFinWait1, LastDataCarriesTheFin) {
  Endpoint endpoint = established();
  OutSegment last = endpoint.send_data(300, kStart, true);
  EXPECT_EQ(last.flags, kAck | kPsh | kFin);
  EXPECT_EQ(last.seq, kIss + 1);
  EXPECT_EQ(endpoint.state(), State::FinWait1);
  EXPECT_FALSE(endpoint.poll(kStart)) << "no separate FIN";
  EXPECT_EQ(endpoint.send_allowance(), 0u);
  Endpoint::Input input =
      endpoint.on_segment(device_segment(kIrs + 1, kIss + 302, kAck, 1000), kStart);
  EXPECT_EQ(input.acked, 300u) << "the FIN's sequence number is not data";
  EXPECT_EQ(endpoint.state(), State::FinWait2);
}

TEST(TcpEndpointCloseWait, LastDataCarriesTheFinToLastAck) {
  Endpoint endpoint = close_wait();
  OutSegment last = endpoint.send_data(10, kStart, true);
  EXPECT_TRUE(last.flags & kFin);
  EXPECT_EQ(endpoint.state(), State::LastAck);
  endpoint.on_segment(device_segment(kIrs + 2, kIss + 12, kAck, 1000), kStart);
  EXPECT_TRUE(endpoint.closed());
}

TEST(TcpEndpointFinWait1, RewindAfterAMergedFinResendsItWithTheLastData) {
  Endpoint endpoint = established();
  endpoint.send_data(300, kStart, true);
  EXPECT_TRUE(endpoint.on_timer(kStart + kMinRto).rewind);
  EXPECT_EQ(endpoint.send_allowance(), 300u);
  OutSegment again = endpoint.send_data(300, kStart + kMinRto, true);
  EXPECT_EQ(again.seq, kIss + 1);
  EXPECT_TRUE(again.flags & kFin);
  EXPECT_FALSE(endpoint.poll(kStart + kMinRto));
}

TEST(TcpEndpointFinWait1, CrossingFinsMoveToClosingThenTimeWait) {
  Endpoint endpoint = closing();
  EXPECT_EQ(endpoint.state(), State::Closing);
  EXPECT_EQ(endpoint.rcv_nxt(), kIrs + 2);
  endpoint.on_segment(device_segment(kIrs + 2, kIss + 2, kAck, 1000), kStart);
  EXPECT_EQ(endpoint.state(), State::TimeWait);
}

TEST(TcpEndpointFinWait1, FinAcknowledgingOursMovesToTimeWait) {
  Endpoint endpoint = fin_wait1();
  endpoint.on_segment(device_segment(kIrs + 1, kIss + 2, kAck | kFin, 1000), kStart);
  EXPECT_EQ(endpoint.state(), State::FinWait2);
  EXPECT_TRUE(endpoint.accept(0, kStart));
  EXPECT_EQ(endpoint.state(), State::TimeWait);
  EXPECT_EQ(endpoint.poll(kStart)->ack, kIrs + 2);
}

TEST(TcpEndpointFinWait2, DeviceDataStillFlowsToTheHost) {
  Endpoint endpoint = fin_wait2();
  Endpoint::Input input =
      endpoint.on_segment(device_segment(kIrs + 1, kIss + 2, kAck, 1000, payload(100)), kStart);
  EXPECT_EQ(input.data.size(), 100u);
  endpoint.accept(100, kStart);
  auto ack = endpoint.poll(kStart);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->seq, kIss + 2);  // after our FIN
  EXPECT_EQ(ack->ack, kIrs + 101);
}

TEST(TcpEndpointFinWait2, ClosingTimeoutResets) {
  Endpoint endpoint = fin_wait2();
  const Time limit = kStart + Config{}.closing_timeout;
  endpoint.on_timer(limit - 1ms);
  EXPECT_EQ(endpoint.state(), State::FinWait2);
  endpoint.on_timer(limit);
  EXPECT_TRUE(endpoint.closed());
  auto rst = endpoint.poll(limit);
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->flags, kRst | kAck);
  EXPECT_EQ(rst->seq, kIss + 2);
}

TEST(TcpEndpointTimeWait, LastsTimeWaitThenCloses) {
  Endpoint endpoint = time_wait();
  EXPECT_EQ(endpoint.state(), State::TimeWait);
  EXPECT_EQ(endpoint.deadline(), kStart + Config{}.time_wait);
  endpoint.on_timer(kStart + Config{}.time_wait);
  EXPECT_TRUE(endpoint.closed());
  EXPECT_FALSE(endpoint.poll(kStart + Config{}.time_wait));
}

TEST(TcpEndpointTimeWait, RetransmittedFinIsAckedAndRestartsTheTimer) {
  Endpoint endpoint = time_wait();
  endpoint.on_segment(device_segment(kIrs + 1, kIss + 2, kAck | kFin, 1000), kStart + 1s);
  auto ack = endpoint.poll(kStart + 1s);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->flags, kAck);
  EXPECT_EQ(ack->seq, kIss + 2);
  EXPECT_EQ(ack->ack, kIrs + 2);
  EXPECT_EQ(endpoint.deadline(), kStart + 1s + Config{}.time_wait);
}

TEST(TcpEndpointReset, ExactRstClosesSilently) {
  Endpoint endpoint = with_data_in_flight(1000);
  Endpoint::Input input = endpoint.on_segment(device_segment(kIrs + 1, kZero, kRst, 0), kStart);
  EXPECT_TRUE(input.reset);
  EXPECT_TRUE(endpoint.closed());
  EXPECT_FALSE(endpoint.poll(kStart));
  EXPECT_EQ(endpoint.send_allowance(), 0u);
}

TEST(TcpEndpointReset, InWindowRstGetsChallengeAck) {
  Endpoint endpoint = established();
  EXPECT_FALSE(endpoint.on_segment(device_segment(kIrs + 100, kZero, kRst, 0), kStart).reset);
  EXPECT_EQ(endpoint.state(), State::Established);
  auto challenge = endpoint.poll(kStart);
  ASSERT_TRUE(challenge);
  EXPECT_EQ(challenge->flags, kAck);
  EXPECT_EQ(challenge->ack, kIrs + 1);
}

TEST(TcpEndpointReset, OutOfWindowRstIsIgnored) {
  Endpoint endpoint = established();
  endpoint.on_segment(device_segment(kIrs - 100, kZero, kRst, 0), kStart);
  EXPECT_EQ(endpoint.state(), State::Established);
  EXPECT_FALSE(endpoint.poll(kStart));
}

TEST(TcpEndpointReset, HostResetSendsRstAtSndNxt) {
  Endpoint endpoint = with_data_in_flight(1000);
  endpoint.host_reset(kStart);
  EXPECT_TRUE(endpoint.closed());
  auto rst = endpoint.poll(kStart);
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->flags, kRst | kAck);
  EXPECT_EQ(rst->seq, kIss + 1001);
  EXPECT_EQ(rst->ack, kIrs + 1);
  EXPECT_FALSE(endpoint.poll(kStart));
}

TEST(TcpEndpointReset, AbortAfterOurFinResetsAfterIt) {
  Endpoint endpoint = fin_wait1();
  endpoint.abort(kStart);
  EXPECT_TRUE(endpoint.closed());
  EXPECT_EQ(endpoint.poll(kStart)->seq, kIss + 2);
}

TEST(TcpEndpointReset, ClosedEndpointIgnoresEverything) {
  Endpoint endpoint = established();
  endpoint.abort(kStart);
  drain(endpoint, kStart);
  endpoint.abort(kStart);
  endpoint.host_closed(kStart);
  endpoint.on_segment(device_segment(kIrs + 1, kIss + 1, kAck, 1000, payload(10)), kStart);
  endpoint.on_timer(kStart + 10h);
  EXPECT_FALSE(endpoint.poll(kStart));
}

TEST(TcpEndpointChallengeAck, SynOnAnEstablishedConnectionGetsChallengeAck) {
  Endpoint endpoint = established();
  Segment syn = device_syn({});
  syn.seq = kIrs + 500;
  endpoint.on_segment(syn, kStart);
  EXPECT_EQ(endpoint.state(), State::Established);
  auto challenge = endpoint.poll(kStart);
  ASSERT_TRUE(challenge);
  EXPECT_EQ(challenge->flags, kAck);
  EXPECT_EQ(challenge->ack, kIrs + 1);
}

TEST(TcpEndpointChallengeAck, AckOlderThanAnyWindowGetsChallengeAck) {
  Endpoint endpoint = established();
  Endpoint::Input input = endpoint.on_segment(
      device_segment(kIrs + 1, kIss + 1 - 200000, kAck, 1000, payload(10)), kStart);
  EXPECT_TRUE(input.data.empty());  // RFC 5961 5.2: the segment is dropped
  EXPECT_EQ(endpoint.poll(kStart)->ack, kIrs + 1);
}

TEST(TcpEndpointTimeouts, IdleEstablishedConnectionIsReset) {
  Endpoint endpoint = established();
  EXPECT_EQ(endpoint.deadline(), kStart + Config{}.idle_timeout);
  endpoint.on_timer(kStart + Config{}.idle_timeout);
  EXPECT_TRUE(endpoint.closed());
  EXPECT_EQ(endpoint.poll(kStart)->flags, kRst | kAck);
}

TEST(TcpEndpointTimeouts, AnyDeviceSegmentRestartsTheIdleTimer) {
  Endpoint endpoint = established();
  endpoint.on_segment(device_ack(endpoint, kIss + 1), kStart + 1h);
  EXPECT_EQ(endpoint.deadline(), kStart + 1h + Config{}.idle_timeout);
  endpoint.on_timer(kStart + Config{}.idle_timeout);
  EXPECT_EQ(endpoint.state(), State::Established);
}

TEST(TcpEndpointTimeouts, IdleTimeoutAppliesInCloseWait) {
  Endpoint endpoint = close_wait();
  endpoint.on_timer(kStart + Config{}.idle_timeout);
  EXPECT_TRUE(endpoint.closed());
}

}  // namespace
}  // namespace rtether::tcp
