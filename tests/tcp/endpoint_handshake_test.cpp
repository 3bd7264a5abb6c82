// tcp::Endpoint from the device's SYN to Established: the host connect
// outcome, SYN-ACK (re)transmission and MSS / window-scale negotiation.
#include <gtest/gtest.h>

#include "tcp/endpoint_fixtures.hpp"

namespace rtether::tcp {
namespace {

using namespace fixtures;

TEST(TcpEndpointConnecting, StartsFromTheDeviceSynWithoutSending) {
  Endpoint endpoint = connecting();
  EXPECT_EQ(endpoint.state(), State::Connecting);
  EXPECT_EQ(endpoint.rcv_nxt(), kIrs + 1);
  EXPECT_FALSE(endpoint.poll(kStart));
}

TEST(TcpEndpointConnecting, RepeatedSynIsIgnored) {
  Endpoint endpoint = connecting();
  Endpoint::Input input = endpoint.on_segment(device_syn({}), kStart + 1s);
  EXPECT_TRUE(input.data.empty());
  EXPECT_EQ(endpoint.state(), State::Connecting);
  EXPECT_FALSE(endpoint.poll(kStart + 1s));
}

TEST(TcpEndpointConnecting, RefusedConnectAnswersRstAckLikeAClosedPort) {
  Endpoint endpoint = connecting();
  endpoint.on_connect_failed(kStart);
  EXPECT_TRUE(endpoint.closed());
  auto rst = endpoint.poll(kStart);
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->flags, kRst | kAck);
  EXPECT_EQ(rst->seq, kZero);
  EXPECT_EQ(rst->ack, kIrs + 1);
  EXPECT_FALSE(endpoint.poll(kStart));
}

TEST(TcpEndpointConnecting, ConnectTimeoutQueuesRstAndCloses) {
  Endpoint endpoint = connecting();
  EXPECT_EQ(endpoint.deadline(), kStart + Config{}.connect_timeout);
  endpoint.on_timer(kStart + 29s);
  EXPECT_EQ(endpoint.state(), State::Connecting);
  endpoint.on_timer(kStart + 30s);
  EXPECT_TRUE(endpoint.closed());
  auto rst = endpoint.poll(kStart + 30s);
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->flags, kRst | kAck);
  EXPECT_EQ(endpoint.deadline(), Time::max());
}

TEST(TcpEndpointConnecting, ExactRstFromTheDeviceCloses) {
  Endpoint endpoint = connecting();
  EXPECT_FALSE(endpoint.on_segment(device_segment(kIrs + 5, kZero, kRst, 0), kStart).reset);
  EXPECT_EQ(endpoint.state(), State::Connecting);
  EXPECT_TRUE(endpoint.on_segment(device_segment(kIrs + 1, kZero, kRst, 0), kStart).reset);
  EXPECT_TRUE(endpoint.closed());
  EXPECT_FALSE(endpoint.poll(kStart));
}

TEST(TcpEndpointConnecting, ConnectedQueuesSynAckWithOurMssAndShift) {
  Endpoint endpoint = connecting();
  endpoint.on_connected(kStart);
  EXPECT_EQ(endpoint.state(), State::SynReceived);
  auto syn_ack = endpoint.poll(kStart);
  ASSERT_TRUE(syn_ack);
  EXPECT_EQ(syn_ack->flags, kSyn | kAck);
  EXPECT_EQ(syn_ack->seq, kIss);
  EXPECT_EQ(syn_ack->ack, kIrs + 1);
  EXPECT_EQ(syn_ack->mss, 1460);
  EXPECT_EQ(syn_ack->window_scale, 5);  // 1 MiB needs 65535 << 5
  EXPECT_EQ(syn_ack->window, 65535);    // RFC 7323 2.2: never scaled in a SYN
  EXPECT_FALSE(endpoint.poll(kStart));
}

TEST(TcpEndpointNegotiation, SendMssIsTheSmallerOfBoth) {
  Handshake small;
  small.device_mss = 1200;
  EXPECT_EQ(connecting(small).max_segment(), 1200);
  Handshake large;
  large.device_mss = 9000;
  EXPECT_EQ(connecting(large).max_segment(), 1460);
}

TEST(TcpEndpointNegotiation, MissingMssOptionMeans536) {
  Handshake setup;
  setup.device_mss.reset();
  EXPECT_EQ(connecting(setup).max_segment(), 536);
}

TEST(TcpEndpointNegotiation, OurShiftIsTheSmallestThatFitsTheBuffer) {
  const auto shift_for = [](std::uint32_t buffer) {
    Handshake setup;
    setup.config.receive_buffer = buffer;
    Endpoint endpoint = connecting(setup);
    endpoint.on_connected(kStart);
    return endpoint.poll(kStart)->window_scale;
  };
  EXPECT_EQ(shift_for(65535), 0);
  EXPECT_EQ(shift_for(65536), 1);
  EXPECT_EQ(shift_for(1024 * 1024), 5);
  EXPECT_EQ(shift_for(1u << 30), 14);  // RFC 7323 2.3 cap
}

TEST(TcpEndpointNegotiation, NoScalingWhenTheDeviceOffersNone) {
  Handshake setup;
  setup.device_window_scale.reset();
  Endpoint endpoint = connecting(setup);
  endpoint.on_connected(kStart);
  auto syn_ack = endpoint.poll(kStart);
  ASSERT_TRUE(syn_ack);
  EXPECT_FALSE(syn_ack->window_scale);
  endpoint.on_segment(device_segment(kIrs + 1, kIss + 1, kAck, 1000), kStart);
  EXPECT_EQ(endpoint.send_window(), 1000u);  // the device's window is taken as is
  EXPECT_EQ(endpoint.advertised_window(), 65535u);
  endpoint.set_receive_space(30000);
  EXPECT_EQ(endpoint.send_data(10, kStart).window, 65535);  // edge already advertised stays
}

TEST(TcpEndpointNegotiation, DeviceShiftScalesItsNonSynWindows) {
  Endpoint endpoint = connecting();
  EXPECT_EQ(endpoint.send_window(), 65535u);  // from the SYN, unscaled
  endpoint = established();
  EXPECT_EQ(endpoint.send_window(), 1000u << 7);
  EXPECT_EQ(endpoint.send_allowance(), 1000u << 7);
}

TEST(TcpEndpointNegotiation, DeviceShiftIsClampedTo14) {
  Handshake setup;
  setup.device_window_scale = 20;
  setup.device_window = 2;
  EXPECT_EQ(established(setup).send_window(), 2u << 14);
}

TEST(TcpEndpointNegotiation, OurWindowIsScaledAfterTheSynAck) {
  Handshake setup;
  setup.config.receive_buffer = 200000;  // shift 2
  Endpoint endpoint = established(setup);
  OutSegment data = endpoint.send_data(100, kStart);
  EXPECT_EQ(data.window, 200000 >> 2);
  EXPECT_EQ(endpoint.advertised_window(), 200000u);
}

TEST(TcpEndpointSynReceived, AckMovesToEstablished) {
  Endpoint endpoint = syn_received();
  Endpoint::Input input =
      endpoint.on_segment(device_segment(kIrs + 1, kIss + 1, kAck, 1000), kStart);
  EXPECT_EQ(endpoint.state(), State::Established);
  EXPECT_TRUE(input.can_send_more);
  EXPECT_EQ(endpoint.in_flight(), 0u);
  EXPECT_FALSE(endpoint.poll(kStart));
}

TEST(TcpEndpointSynReceived, NoDataMayBeSentBeforeEstablished) {
  EXPECT_EQ(syn_received().send_allowance(), 0u);
}

TEST(TcpEndpointSynReceived, AckOfAnythingElseIsDropped) {
  Endpoint endpoint = syn_received();
  endpoint.on_segment(device_segment(kIrs + 1, kIss + 7, kAck, 1000), kStart);
  EXPECT_EQ(endpoint.state(), State::SynReceived);
  EXPECT_FALSE(endpoint.poll(kStart));
}

TEST(TcpEndpointSynReceived, SynAckIsResentWithDoublingTimeoutThenReset) {
  Endpoint endpoint = syn_received();
  Time expected = kStart;
  auto timeout = std::chrono::duration_cast<Clock::duration>(Config{}.syn_ack_timeout);
  for (int retry = 0; retry < Config{}.syn_ack_retries; ++retry) {
    expected += timeout;
    EXPECT_EQ(endpoint.deadline(), expected);
    endpoint.on_timer(expected - 1ms);
    EXPECT_FALSE(endpoint.poll(expected - 1ms));
    endpoint.on_timer(expected);
    auto resent = endpoint.poll(expected);
    ASSERT_TRUE(resent);
    EXPECT_EQ(resent->flags, kSyn | kAck);
    EXPECT_EQ(resent->seq, kIss);
    timeout *= 2;
  }
  expected += timeout;  // 1+2+4+8+16 s of resends, then 32 s for the last one
  EXPECT_EQ(endpoint.deadline(), kStart + 63s);
  endpoint.on_timer(expected);
  EXPECT_TRUE(endpoint.closed());
  auto rst = endpoint.poll(expected);
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->flags, kRst | kAck);
  EXPECT_EQ(rst->seq, kIss + 1);
  EXPECT_FALSE(endpoint.poll(expected));
}

TEST(TcpEndpointSynReceived, RepeatedSynRequeuesSynAckAtOnce) {
  Endpoint endpoint = syn_received();
  endpoint.on_segment(device_syn({}), kStart + 100ms);
  auto syn_ack = endpoint.poll(kStart + 100ms);
  ASSERT_TRUE(syn_ack);
  EXPECT_EQ(syn_ack->flags, kSyn | kAck);
  EXPECT_EQ(syn_ack->ack, kIrs + 1);
}

TEST(TcpEndpointSynReceived, AckCarryingDataAndFinIsProcessed) {
  Endpoint endpoint = syn_received();
  Endpoint::Input input = endpoint.on_segment(
      device_segment(kIrs + 1, kIss + 1, kAck | kFin, 1000, payload(10)), kStart);
  EXPECT_EQ(input.data.size(), 10u);
  EXPECT_TRUE(endpoint.accept(10, kStart));
  EXPECT_EQ(endpoint.state(), State::CloseWait);
  auto ack = endpoint.poll(kStart);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->flags, kAck);
  EXPECT_EQ(ack->ack, kIrs + 12);
}

TEST(TcpEndpointSynReceived, ExactRstCloses) {
  Endpoint endpoint = syn_received();
  EXPECT_TRUE(endpoint.on_segment(device_segment(kIrs + 1, kZero, kRst, 0), kStart).reset);
  EXPECT_TRUE(endpoint.closed());
  EXPECT_FALSE(endpoint.poll(kStart));
}

TEST(TcpEndpointSynReceived, HostCloseBeforeTheAckSendsFinOnceEstablished) {
  Endpoint endpoint = syn_received();
  endpoint.host_closed(kStart);
  EXPECT_EQ(endpoint.state(), State::SynReceived);
  EXPECT_FALSE(endpoint.poll(kStart));
  endpoint.on_segment(device_segment(kIrs + 1, kIss + 1, kAck, 1000), kStart);
  EXPECT_EQ(endpoint.state(), State::FinWait1);
  auto fin = endpoint.poll(kStart);
  ASSERT_TRUE(fin);
  EXPECT_EQ(fin->flags, kFin | kAck);
  EXPECT_EQ(fin->seq, kIss + 1);
}

}  // namespace
}  // namespace rtether::tcp
