// tcp::Endpoint sending host data: segment headers, acknowledgements, the
// device's window, retransmission timing (RFC 6298), go-back-N rewinds on
// timeout and after three duplicate ACKs, and zero-window probing.
#include <gtest/gtest.h>

#include "tcp/endpoint_fixtures.hpp"

namespace rtether::tcp {
namespace {

using namespace fixtures;

constexpr auto kMinRto = 200ms;  // Config default: the handshake RTT sample here is 0

TEST(TcpEndpointEstablishedSend, SendDataBuildsTheHeaderAtSndNxt) {
  Endpoint endpoint = established();
  EXPECT_EQ(endpoint.send_allowance(), 128000u);
  OutSegment data = endpoint.send_data(1000, kStart);
  EXPECT_EQ(data.seq, kIss + 1);
  EXPECT_EQ(data.ack, kIrs + 1);
  EXPECT_EQ(data.flags, kAck | kPsh);
  EXPECT_EQ(data.window, (1024 * 1024) >> 5);
  EXPECT_FALSE(data.mss);
  EXPECT_EQ(endpoint.in_flight(), 1000u);
  EXPECT_EQ(endpoint.snd_nxt(), kIss + 1001);
  EXPECT_EQ(endpoint.send_allowance(), 127000u);
}

TEST(TcpEndpointEstablishedSend, AckReportsNewlyAckedBytes) {
  Endpoint endpoint = with_data_in_flight(1000);
  Endpoint::Input input = endpoint.on_segment(device_ack(endpoint, kIss + 501), kStart);
  EXPECT_EQ(input.acked, 500u);
  EXPECT_TRUE(input.can_send_more);
  EXPECT_EQ(endpoint.in_flight(), 500u);
  EXPECT_EQ(endpoint.snd_una(), kIss + 501);
  EXPECT_FALSE(endpoint.poll(kStart));
}

TEST(TcpEndpointEstablishedSend, AckOfUnsentDataIsAnsweredAndIgnored) {
  Endpoint endpoint = with_data_in_flight(1000);
  Endpoint::Input input = endpoint.on_segment(device_ack(endpoint, kIss + 2001), kStart);
  EXPECT_EQ(input.acked, 0u);
  EXPECT_EQ(endpoint.in_flight(), 1000u);
  auto ack = endpoint.poll(kStart);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->seq, kIss + 1001);
}

TEST(TcpEndpointEstablishedSend, DeviceWindowUpdateGrowsTheAllowance) {
  Endpoint endpoint = with_data_in_flight(1000);
  Endpoint::Input input = endpoint.on_segment(device_ack(endpoint, kIss + 1, 2000), kStart);
  EXPECT_TRUE(input.can_send_more);
  EXPECT_EQ(endpoint.send_allowance(), 2000u * 128 - 1000);
}

TEST(TcpEndpointEstablishedSend, ReorderedOlderAckDoesNotChangeTheWindow) {
  Endpoint endpoint = with_data_in_flight(1000);
  endpoint.on_segment(device_ack(endpoint, kIss + 1001, 2000), kStart);
  Endpoint::Input input = endpoint.on_segment(device_ack(endpoint, kIss + 501, 10), kStart);
  EXPECT_EQ(input.acked, 0u);
  EXPECT_EQ(endpoint.send_window(), 2000u * 128);
}

TEST(TcpEndpointEstablishedSend, SendAllowanceIsZeroWhereNoDataMayGo) {
  EXPECT_EQ(connecting().send_allowance(), 0u);
  EXPECT_EQ(fin_wait1().send_allowance(), 0u);
  EXPECT_EQ(time_wait().send_allowance(), 0u);
  EXPECT_GT(close_wait().send_allowance(), 0u);
}

TEST(TcpEndpointEstablishedSend, AllDataAckedStopsTheRetransmissionTimer) {
  Endpoint endpoint = with_data_in_flight(1000);
  EXPECT_EQ(endpoint.deadline(), kStart + kMinRto);
  endpoint.on_segment(device_ack(endpoint, kIss + 1001), kStart + 10ms);
  EXPECT_EQ(endpoint.deadline(), kStart + 10ms + Config{}.idle_timeout);
}

TEST(TcpEndpointEstablishedSend, PartialAckRestartsTheRetransmissionTimer) {
  Endpoint endpoint = with_data_in_flight(1000);
  endpoint.on_segment(device_ack(endpoint, kIss + 501), kStart + 50ms);
  EXPECT_EQ(endpoint.deadline(), kStart + 50ms + kMinRto);
}

TEST(TcpEndpointRetransmission, HandshakeRttSetsTheTimeout) {
  Endpoint endpoint = syn_received();
  const Time now = kStart + 100ms;
  endpoint.on_segment(device_segment(kIrs + 1, kIss + 1, kAck, 1000), now);
  endpoint.send_data(100, now);
  // RFC 6298 2.2: SRTT = 100 ms, RTTVAR = 50 ms, RTO = SRTT + 4 RTTVAR.
  EXPECT_EQ(endpoint.deadline(), now + 300ms);
}

TEST(TcpEndpointRetransmission, RetransmittedSynAckGivesNoRttSample) {
  Endpoint endpoint = syn_received();
  endpoint.on_timer(kStart + 1s);
  drain(endpoint, kStart + 1s);
  const Time now = kStart + 1s + 100ms;
  endpoint.on_segment(device_segment(kIrs + 1, kIss + 1, kAck, 1000), now);
  endpoint.send_data(100, now);
  EXPECT_EQ(endpoint.deadline(), now + 1s);  // RFC 6298 2.1 initial RTO
}

TEST(TcpEndpointRetransmission, TimeoutRewindsToSndUnaAndDoublesTheTimeout) {
  Endpoint endpoint = with_data_in_flight(1000);
  EXPECT_FALSE(endpoint.on_timer(kStart + 199ms).rewind);
  Endpoint::TimerResult result = endpoint.on_timer(kStart + kMinRto);
  EXPECT_TRUE(result.rewind);
  EXPECT_EQ(endpoint.in_flight(), 0u);
  EXPECT_EQ(endpoint.snd_nxt(), kIss + 1);
  EXPECT_EQ(endpoint.deadline(), kStart + kMinRto + 2 * kMinRto);
  OutSegment resent = endpoint.send_data(1000, kStart + kMinRto);
  EXPECT_EQ(resent.seq, kIss + 1);
  EXPECT_TRUE(endpoint.on_timer(kStart + 3 * kMinRto).rewind);
  EXPECT_EQ(endpoint.deadline(), kStart + 3 * kMinRto + 4 * kMinRto);
}

TEST(TcpEndpointRetransmission, BackoffIsCappedAtMaxRto) {
  Endpoint endpoint = with_data_in_flight(1000);
  Time now = kStart;
  for (int i = 0; i < 12; ++i) {
    now = endpoint.deadline();
    endpoint.on_timer(now);
    endpoint.send_data(1000, now);
  }
  EXPECT_EQ(endpoint.deadline(), now + Config{}.max_rto);
  EXPECT_EQ(endpoint.state(), State::Established);
}

TEST(TcpEndpointRetransmission, AckOfDataSentBeforeTheRewindMovesSndNxt) {
  Endpoint endpoint = established();
  for (int i = 0; i < 3; ++i) endpoint.send_data(1000, kStart);
  endpoint.on_timer(kStart + kMinRto);
  endpoint.send_data(1000, kStart + kMinRto);
  Endpoint::Input input = endpoint.on_segment(device_ack(endpoint, kIss + 3001), kStart + kMinRto);
  EXPECT_EQ(input.acked, 3000u);
  EXPECT_EQ(endpoint.in_flight(), 0u);
  EXPECT_EQ(endpoint.snd_nxt(), kIss + 3001);
}

TEST(TcpEndpointRetransmission, AckOfResentDataKeepsTheBackedOffTimeout) {
  Endpoint endpoint = with_data_in_flight(1000);
  const Time resend = kStart + kMinRto;
  endpoint.on_timer(resend);
  endpoint.send_data(1000, resend);
  endpoint.on_segment(device_ack(endpoint, kIss + 1001), resend + 10ms);
  endpoint.send_data(1000, resend + 10ms);
  EXPECT_EQ(endpoint.deadline(), resend + 10ms + 2 * kMinRto);  // Karn: no sample
}

TEST(TcpEndpointRetransmission, ThreeDuplicateAcksRewindAsFastRetransmit) {
  Endpoint endpoint = established();
  for (int i = 0; i < 3; ++i) endpoint.send_data(1000, kStart);
  endpoint.on_segment(device_ack(endpoint, kIss + 1001), kStart);
  EXPECT_FALSE(endpoint.on_segment(device_ack(endpoint, kIss + 1001), kStart).rewind);
  EXPECT_FALSE(endpoint.on_segment(device_ack(endpoint, kIss + 1001), kStart).rewind);
  Endpoint::Input third = endpoint.on_segment(device_ack(endpoint, kIss + 1001), kStart);
  EXPECT_TRUE(third.rewind);
  EXPECT_TRUE(third.can_send_more);
  EXPECT_EQ(endpoint.snd_nxt(), kIss + 1001);
  EXPECT_EQ(endpoint.in_flight(), 0u);
  EXPECT_EQ(endpoint.send_data(1000, kStart).seq, kIss + 1001);
  EXPECT_FALSE(endpoint.on_segment(device_ack(endpoint, kIss + 1001), kStart).rewind);
}

TEST(TcpEndpointRetransmission, AckThatChangesTheWindowIsNoDuplicate) {
  Endpoint endpoint = with_data_in_flight(1000);
  endpoint.on_segment(device_ack(endpoint, kIss + 1, 1001), kStart);
  endpoint.on_segment(device_ack(endpoint, kIss + 1, 1002), kStart);
  EXPECT_FALSE(endpoint.on_segment(device_ack(endpoint, kIss + 1, 1003), kStart).rewind);
  EXPECT_EQ(endpoint.in_flight(), 1000u);
}

TEST(TcpEndpointZeroWindow, PersistTimerSendsAProbeBelowSndUna) {
  Endpoint endpoint = established();
  endpoint.on_segment(device_ack(endpoint, kIss + 1, 0), kStart);
  EXPECT_EQ(endpoint.send_allowance(), 0u);
  EXPECT_EQ(endpoint.deadline(), kStart + kMinRto);
  EXPECT_FALSE(endpoint.on_timer(kStart + kMinRto).rewind);
  auto probe = endpoint.poll(kStart + kMinRto);
  ASSERT_TRUE(probe);
  EXPECT_EQ(probe->flags, kAck);
  EXPECT_EQ(probe->seq, kIss);  // snd_una - 1
  EXPECT_EQ(probe->ack, kIrs + 1);
  EXPECT_EQ(endpoint.deadline(), kStart + 3 * kMinRto);
}

TEST(TcpEndpointZeroWindow, ReopenedWindowStopsProbing) {
  Endpoint endpoint = established();
  endpoint.on_segment(device_ack(endpoint, kIss + 1, 0), kStart);
  endpoint.on_timer(kStart + kMinRto);
  drain(endpoint, kStart + kMinRto);
  Endpoint::Input input = endpoint.on_segment(device_ack(endpoint, kIss + 1, 1000), kStart + 250ms);
  EXPECT_TRUE(input.can_send_more);
  EXPECT_EQ(endpoint.deadline(), kStart + 250ms + Config{}.idle_timeout);
}

TEST(TcpEndpointZeroWindow, ProbingBacksOffToMaxRtoAndNeverCloses) {
  Endpoint endpoint = established();
  endpoint.on_segment(device_ack(endpoint, kIss + 1, 0), kStart);
  Time now = kStart;
  for (int i = 0; i < 20; ++i) {
    now = endpoint.deadline();
    endpoint.on_timer(now);
    ASSERT_EQ(endpoint.poll(now)->seq, kIss);
    endpoint.on_segment(device_ack(endpoint, kIss + 1, 0), now);
  }
  EXPECT_EQ(endpoint.deadline(), now + Config{}.max_rto);
  EXPECT_EQ(endpoint.state(), State::Established);
}

TEST(TcpEndpointZeroWindow, DataInFlightIsRewoundThenProbed) {
  Endpoint endpoint = with_data_in_flight(1000);
  endpoint.on_segment(device_ack(endpoint, kIss + 1, 0), kStart);
  EXPECT_TRUE(endpoint.on_timer(kStart + kMinRto).rewind);
  EXPECT_EQ(endpoint.send_allowance(), 0u);
  EXPECT_FALSE(endpoint.on_timer(kStart + 3 * kMinRto).rewind);
  EXPECT_EQ(endpoint.poll(kStart + 3 * kMinRto)->seq, kIss);
}

}  // namespace
}  // namespace rtether::tcp
