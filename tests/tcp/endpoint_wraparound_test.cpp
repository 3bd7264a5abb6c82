// tcp::Endpoint with both initial sequence numbers just below 2^32, so that
// every comparison must work modulo 2^32 (RFC 9293 3.4).
#include <gtest/gtest.h>

#include "tcp/endpoint_fixtures.hpp"

namespace rtether::tcp {
namespace {

using namespace fixtures;

constexpr SeqNumber seq(std::uint32_t raw) { return SeqNumber{raw}; }

Handshake near_wrap() {
  Handshake setup;
  setup.irs = seq(0xFFFFFFF8);
  setup.iss = seq(0xFFFFFFF0);
  return setup;
}

TEST(TcpEndpointWraparound, OurDataIsAckedAcrossZero) {
  Endpoint endpoint = established(near_wrap());
  OutSegment data = endpoint.send_data(100, kStart);
  EXPECT_EQ(data.seq, seq(0xFFFFFFF1));
  EXPECT_EQ(endpoint.snd_nxt(), seq(0x55));
  EXPECT_EQ(endpoint.in_flight(), 100u);
  Endpoint::Input input = endpoint.on_segment(device_ack(endpoint, seq(0x55)), kStart);
  EXPECT_EQ(input.acked, 100u);
  EXPECT_EQ(endpoint.in_flight(), 0u);
}

TEST(TcpEndpointWraparound, AckBeyondSndNxtAcrossZeroIsRefused) {
  Endpoint endpoint = established(near_wrap());
  endpoint.send_data(100, kStart);
  EXPECT_EQ(endpoint.on_segment(device_ack(endpoint, seq(0x56)), kStart).acked, 0u);
  EXPECT_EQ(endpoint.in_flight(), 100u);
  EXPECT_TRUE(endpoint.poll(kStart));
}

TEST(TcpEndpointWraparound, DeviceDataIsAcceptedAcrossZero) {
  Endpoint endpoint = established(near_wrap());
  const Segment data = device_segment(seq(0xFFFFFFF9), seq(0xFFFFFFF1), kAck, 1000, payload(100));
  Endpoint::Input input = endpoint.on_segment(data, kStart);
  EXPECT_EQ(input.data.size(), 100u);
  endpoint.accept(100, kStart);
  EXPECT_EQ(endpoint.poll(kStart)->ack, seq(0x5D));
  // The same segment again is old: only an ACK.
  EXPECT_TRUE(endpoint.on_segment(data, kStart).data.empty());
  EXPECT_EQ(endpoint.poll(kStart)->ack, seq(0x5D));
}

TEST(TcpEndpointWraparound, GapAcrossZeroGetsDuplicateAck) {
  Endpoint endpoint = established(near_wrap());
  const Segment past_zero = device_segment(seq(0x10), seq(0xFFFFFFF1), kAck, 1000, payload(10));
  EXPECT_TRUE(endpoint.on_segment(past_zero, kStart).data.empty());
  EXPECT_EQ(endpoint.poll(kStart)->ack, seq(0xFFFFFFF9));
}

TEST(TcpEndpointWraparound, RewindAndFinAcrossZero) {
  Endpoint endpoint = established(near_wrap());
  endpoint.send_data(100, kStart);
  endpoint.host_closed(kStart);
  EXPECT_EQ(endpoint.poll(kStart)->seq, seq(0x55));
  EXPECT_TRUE(endpoint.on_timer(endpoint.deadline()).rewind);
  EXPECT_EQ(endpoint.snd_nxt(), seq(0xFFFFFFF1));
  endpoint.on_segment(device_ack(endpoint, seq(0x56)), kStart);
  EXPECT_EQ(endpoint.state(), State::FinWait2);
  EXPECT_EQ(endpoint.in_flight(), 0u);
}

}  // namespace
}  // namespace rtether::tcp
