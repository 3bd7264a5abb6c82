// tcp::Endpoint with both initial sequence numbers just below 2^32, so that
// every comparison must work modulo 2^32 (RFC 9293 3.4).
#include <gtest/gtest.h>

#include "tcp/endpoint_fixtures.hpp"

namespace rtether::tcp {
namespace {

using namespace fixtures;

Handshake near_wrap() {
  Handshake setup;
  setup.irs = 0xFFFFFFF8;
  setup.iss = 0xFFFFFFF0;
  return setup;
}

TEST(TcpEndpointWraparound, OurDataIsAckedAcrossZero) {
  Endpoint endpoint = established(near_wrap());
  OutSegment data = endpoint.send_data(100, kStart);
  EXPECT_EQ(data.seq, 0xFFFFFFF1u);
  EXPECT_EQ(endpoint.snd_nxt(), 0x55u);
  EXPECT_EQ(endpoint.in_flight(), 100u);
  Endpoint::Input input = endpoint.on_segment(device_ack(endpoint, 0x55), kStart);
  EXPECT_EQ(input.acked, 100u);
  EXPECT_EQ(endpoint.in_flight(), 0u);
}

TEST(TcpEndpointWraparound, AckBeyondSndNxtAcrossZeroIsRefused) {
  Endpoint endpoint = established(near_wrap());
  endpoint.send_data(100, kStart);
  EXPECT_EQ(endpoint.on_segment(device_ack(endpoint, 0x56), kStart).acked, 0u);
  EXPECT_EQ(endpoint.in_flight(), 100u);
  EXPECT_TRUE(endpoint.poll(kStart));
}

TEST(TcpEndpointWraparound, DeviceDataIsAcceptedAcrossZero) {
  Endpoint endpoint = established(near_wrap());
  Endpoint::Input input =
      endpoint.on_segment(device_segment(0xFFFFFFF9, 0xFFFFFFF1, kAck, 1000, payload(100)), kStart);
  EXPECT_EQ(input.data.size(), 100u);
  endpoint.accept(100, kStart);
  EXPECT_EQ(endpoint.poll(kStart)->ack, 0x5Du);
  // The same segment again is old: only an ACK.
  EXPECT_TRUE(
      endpoint.on_segment(device_segment(0xFFFFFFF9, 0xFFFFFFF1, kAck, 1000, payload(100)), kStart)
          .data.empty());
  EXPECT_EQ(endpoint.poll(kStart)->ack, 0x5Du);
}

TEST(TcpEndpointWraparound, GapAcrossZeroGetsDuplicateAck) {
  Endpoint endpoint = established(near_wrap());
  EXPECT_TRUE(endpoint.on_segment(device_segment(0x10, 0xFFFFFFF1, kAck, 1000, payload(10)), kStart)
                  .data.empty());
  EXPECT_EQ(endpoint.poll(kStart)->ack, 0xFFFFFFF9u);
}

TEST(TcpEndpointWraparound, RewindAndFinAcrossZero) {
  Endpoint endpoint = established(near_wrap());
  endpoint.send_data(100, kStart);
  endpoint.host_closed(kStart);
  EXPECT_EQ(endpoint.poll(kStart)->seq, 0x55u);
  EXPECT_TRUE(endpoint.on_timer(endpoint.deadline()).rewind);
  EXPECT_EQ(endpoint.snd_nxt(), 0xFFFFFFF1u);
  endpoint.on_segment(device_ack(endpoint, 0x56), kStart);
  EXPECT_EQ(endpoint.state(), State::FinWait2);
  EXPECT_EQ(endpoint.in_flight(), 0u);
}

}  // namespace
}  // namespace rtether::tcp
