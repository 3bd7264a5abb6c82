// tcp::Endpoint receiving device data: in-order delivery, acknowledgement
// only after accept(), the device's FIN, and the advertised window.
#include <gtest/gtest.h>

#include "tcp/endpoint_fixtures.hpp"

namespace rtether::tcp {
namespace {

using namespace fixtures;

// A small buffer (no scaling: shift 0) makes window edges easy to reach.
Handshake small_buffer(std::uint32_t bytes) {
  Handshake setup;
  setup.config.receive_buffer = bytes;
  return setup;
}

Segment data_at(SeqNumber seq, std::size_t size, std::uint8_t extra_flags = 0) {
  return device_segment(seq, kIss + 1, kAck | extra_flags, 1000, payload(size));
}

TEST(TcpEndpointEstablishedReceive, InOrderDataIsAcknowledgedOnlyWhenAccepted) {
  Endpoint endpoint = established();
  Endpoint::Input input = endpoint.on_segment(data_at(kIrs + 1, 100), kStart);
  EXPECT_EQ(input.data.size(), 100u);
  EXPECT_FALSE(endpoint.poll(kStart));
  EXPECT_FALSE(endpoint.accept(100, kStart));
  auto ack = endpoint.poll(kStart);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->flags, kAck);
  EXPECT_EQ(ack->seq, kIss + 1);
  EXPECT_EQ(ack->ack, kIrs + 101);
  EXPECT_FALSE(endpoint.poll(kStart));
}

TEST(TcpEndpointEstablishedReceive, PartialAcceptAcknowledgesOnlyWhatWasTaken) {
  Endpoint endpoint = established();
  endpoint.on_segment(data_at(kIrs + 1, 100), kStart);
  endpoint.accept(40, kStart);
  EXPECT_EQ(endpoint.rcv_nxt(), kIrs + 41);
  EXPECT_EQ(endpoint.poll(kStart)->ack, kIrs + 41);
}

TEST(TcpEndpointEstablishedReceive, AcceptingNothingOfDataStillAnswers) {
  Endpoint endpoint = established();
  endpoint.on_segment(data_at(kIrs + 1, 100), kStart);
  endpoint.accept(0, kStart);
  EXPECT_EQ(endpoint.poll(kStart)->ack, kIrs + 1);
}

TEST(TcpEndpointEstablishedReceive, SeveralAcceptsShareOnePendingAck) {
  Endpoint endpoint = established();
  endpoint.on_segment(data_at(kIrs + 1, 100), kStart);
  endpoint.accept(100, kStart);
  endpoint.on_segment(data_at(kIrs + 101, 50), kStart);
  endpoint.accept(50, kStart);
  auto acks = drain(endpoint, kStart);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].ack, kIrs + 151);
}

TEST(TcpEndpointEstablishedReceive, GapGetsDuplicateAckAndNoData) {
  Endpoint endpoint = established();
  Endpoint::Input input = endpoint.on_segment(data_at(kIrs + 101, 100), kStart);
  EXPECT_TRUE(input.data.empty());
  auto ack = endpoint.poll(kStart);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->ack, kIrs + 1);
  EXPECT_EQ(endpoint.rcv_nxt(), kIrs + 1);
}

TEST(TcpEndpointEstablishedReceive, EntirelyOldSegmentGetsAck) {
  Endpoint endpoint = established();
  endpoint.on_segment(data_at(kIrs + 1, 100), kStart);
  endpoint.accept(100, kStart);
  drain(endpoint, kStart);
  EXPECT_TRUE(endpoint.on_segment(data_at(kIrs + 1, 100), kStart).data.empty());
  EXPECT_EQ(endpoint.poll(kStart)->ack, kIrs + 101);
}

TEST(TcpEndpointEstablishedReceive, PartlyOldSegmentIsTrimmed) {
  Endpoint endpoint = established();
  endpoint.on_segment(data_at(kIrs + 1, 100), kStart);
  endpoint.accept(100, kStart);
  Endpoint::Input input = endpoint.on_segment(data_at(kIrs + 51, 100), kStart);
  EXPECT_EQ(input.data.size(), 50u);
  endpoint.accept(50, kStart);
  EXPECT_EQ(endpoint.rcv_nxt(), kIrs + 151);
}

TEST(TcpEndpointEstablishedReceive, DataBeyondTheWindowIsTrimmed) {
  Endpoint endpoint = established(small_buffer(1000));
  EXPECT_EQ(endpoint.on_segment(data_at(kIrs + 1, 1500), kStart).data.size(), 1000u);
}

TEST(TcpEndpointEstablishedReceive, SegmentEntirelyBeyondTheWindowGetsAck) {
  Endpoint endpoint = established(small_buffer(1000));
  EXPECT_TRUE(endpoint.on_segment(data_at(kIrs + 1001, 100), kStart).data.empty());
  EXPECT_EQ(endpoint.poll(kStart)->ack, kIrs + 1);
}

TEST(TcpEndpointEstablishedReceive, ZeroWindowProbeGetsAckWithZeroWindow) {
  Endpoint endpoint = established(small_buffer(1000));
  endpoint.on_segment(data_at(kIrs + 1, 1000), kStart);
  endpoint.set_receive_space(0);
  endpoint.accept(1000, kStart);
  EXPECT_EQ(endpoint.poll(kStart)->window, 0);
  Endpoint::Input input = endpoint.on_segment(data_at(kIrs + 1001, 1), kStart);
  EXPECT_TRUE(input.data.empty());
  auto ack = endpoint.poll(kStart);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->ack, kIrs + 1001);
  EXPECT_EQ(ack->window, 0);
}

TEST(TcpEndpointEstablishedReceive, ZeroWindowProbeStillCarriesAWindowUpdate) {
  Endpoint endpoint = established(small_buffer(1000));
  endpoint.on_segment(data_at(kIrs + 1, 1000), kStart);
  endpoint.set_receive_space(0);
  endpoint.accept(1000, kStart);
  drain(endpoint, kStart);
  endpoint.on_segment(device_segment(kIrs + 1001, kIss + 1, kAck, 3000, payload(1)), kStart);
  EXPECT_EQ(endpoint.send_window(), 3000u << 7);
}

TEST(TcpEndpointEstablishedReceive, FinAloneIsConsumedByAcceptZero) {
  Endpoint endpoint = established();
  Endpoint::Input input = endpoint.on_segment(data_at(kIrs + 1, 0, kFin), kStart);
  EXPECT_TRUE(input.data.empty());
  EXPECT_EQ(endpoint.state(), State::Established);
  EXPECT_TRUE(endpoint.accept(0, kStart));
  EXPECT_EQ(endpoint.state(), State::CloseWait);
  EXPECT_EQ(endpoint.poll(kStart)->ack, kIrs + 2);
}

TEST(TcpEndpointEstablishedReceive, FinAfterDataIsConsumedOnlyWithAllTheData) {
  Endpoint endpoint = established();
  endpoint.on_segment(data_at(kIrs + 1, 100, kFin), kStart);
  EXPECT_FALSE(endpoint.accept(60, kStart));
  EXPECT_EQ(endpoint.state(), State::Established);
  EXPECT_EQ(endpoint.poll(kStart)->ack, kIrs + 61);
  // The device resends the rest with its FIN.
  EXPECT_EQ(endpoint.on_segment(data_at(kIrs + 61, 40, kFin), kStart).data.size(), 40u);
  EXPECT_TRUE(endpoint.accept(40, kStart));
  EXPECT_EQ(endpoint.state(), State::CloseWait);
  EXPECT_EQ(endpoint.poll(kStart)->ack, kIrs + 102);
}

TEST(TcpEndpointEstablishedReceive, FinCutOffByTheWindowIsNotConsumed) {
  Endpoint endpoint = established(small_buffer(1000));
  EXPECT_EQ(endpoint.on_segment(data_at(kIrs + 1, 1200, kFin), kStart).data.size(), 1000u);
  EXPECT_FALSE(endpoint.accept(1000, kStart));
  EXPECT_EQ(endpoint.state(), State::Established);
}

TEST(TcpEndpointEstablishedReceive, OutOfOrderFinGetsDuplicateAck) {
  Endpoint endpoint = established();
  endpoint.on_segment(data_at(kIrs + 50, 0, kFin), kStart);
  EXPECT_FALSE(endpoint.accept(0, kStart));
  EXPECT_EQ(endpoint.poll(kStart)->ack, kIrs + 1);
  EXPECT_EQ(endpoint.state(), State::Established);
}

TEST(TcpEndpointEstablishedReceive, SegmentWithoutAckIsDropped) {
  Endpoint endpoint = established();
  const Segment no_ack = device_segment(kIrs + 1, kZero, 0, 1000, payload(10));
  EXPECT_TRUE(endpoint.on_segment(no_ack, kStart).data.empty());
}

TEST(TcpEndpointReceiveWindow, AdvertisedWindowFollowsTheReceiveSpace) {
  Endpoint endpoint = established(small_buffer(1000));
  endpoint.on_segment(data_at(kIrs + 1, 600), kStart);
  endpoint.set_receive_space(400);
  endpoint.accept(600, kStart);
  EXPECT_EQ(endpoint.poll(kStart)->window, 400);
  endpoint.set_receive_space(900);
  EXPECT_EQ(endpoint.advertised_window(), 900u);
}

TEST(TcpEndpointReceiveWindow, RightEdgeNeverMovesLeft) {
  Endpoint endpoint = established(small_buffer(1000));
  endpoint.set_receive_space(100);  // the SYN-ACK already offered 1000
  EXPECT_EQ(endpoint.advertised_window(), 1000u);
  endpoint.on_segment(data_at(kIrs + 1, 300), kStart);
  endpoint.accept(300, kStart);
  EXPECT_EQ(endpoint.poll(kStart)->window, 700);
}

TEST(TcpEndpointReceiveWindow, ScaledEdgeIsRoundedUpNotDown) {
  Endpoint endpoint = established();  // shift 5
  endpoint.send_data(10, kStart);     // advertises 1 MiB
  endpoint.set_receive_space(0);
  endpoint.on_segment(data_at(kIrs + 1, 1000), kStart);
  endpoint.accept(1000, kStart);
  auto ack = endpoint.poll(kStart);
  ASSERT_TRUE(ack);
  EXPECT_GE(std::uint32_t{ack->window} << 5, 1024u * 1024 - 1000);
}

TEST(TcpEndpointReceiveWindow, ReopeningToOneMssQueuesWindowUpdate) {
  Endpoint endpoint = established(small_buffer(4000));  // threshold: MSS 1460
  endpoint.on_segment(data_at(kIrs + 1, 4000), kStart);
  endpoint.set_receive_space(0);
  endpoint.accept(4000, kStart);
  EXPECT_EQ(endpoint.poll(kStart)->window, 0);
  endpoint.set_receive_space(1000);
  EXPECT_FALSE(endpoint.poll(kStart));
  endpoint.set_receive_space(1500);
  auto update = endpoint.poll(kStart);
  ASSERT_TRUE(update);
  EXPECT_EQ(update->flags, kAck);
  EXPECT_EQ(update->window, 1500);
}

TEST(TcpEndpointReceiveWindow, ReopeningToHalfASmallBufferQueuesWindowUpdate) {
  Endpoint endpoint = established(small_buffer(1000));  // threshold: 500 < MSS
  endpoint.on_segment(data_at(kIrs + 1, 1000), kStart);
  endpoint.set_receive_space(0);
  endpoint.accept(1000, kStart);
  drain(endpoint, kStart);
  endpoint.set_receive_space(400);
  EXPECT_FALSE(endpoint.poll(kStart));
  endpoint.set_receive_space(600);
  EXPECT_EQ(endpoint.poll(kStart)->window, 600);
}

}  // namespace
}  // namespace rtether::tcp
