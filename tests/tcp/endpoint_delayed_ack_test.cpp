// tcp::Endpoint with delayed ACKs (RFC 1122 4.2.3.2): a lone data segment's
// ACK waits for our data or the delay; a second segment, a FIN or a partial
// take are acknowledged at once.
#include <gtest/gtest.h>

#include "tcp/endpoint_fixtures.hpp"

namespace rtether::tcp {
namespace {

using namespace fixtures;

constexpr auto kDelay = std::chrono::microseconds(500);

Endpoint established_with_delayed_ack() {
  Handshake setup;
  setup.config.delayed_ack = kDelay;
  return established(setup);
}

Segment data_at(SeqNumber seq, std::size_t size, std::uint8_t extra_flags = 0) {
  return device_segment(seq, kIss + 1, kAck | extra_flags, 1000, payload(size));
}

TEST(TcpEndpointDelayedAck, LoneSegmentIsAckedWhenTheDelayEnds) {
  Endpoint endpoint = established_with_delayed_ack();
  endpoint.on_segment(data_at(kIrs + 1, 100), kStart);
  endpoint.accept(100, kStart);
  EXPECT_FALSE(endpoint.poll(kStart));
  EXPECT_EQ(endpoint.deadline(), kStart + kDelay);
  endpoint.on_timer(kStart + kDelay);
  auto ack = endpoint.poll(kStart + kDelay);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->ack, kIrs + 101);
  EXPECT_GT(endpoint.deadline(), kStart + kDelay);
}

TEST(TcpEndpointDelayedAck, OurDataCarriesTheDelayedAck) {
  Endpoint endpoint = established_with_delayed_ack();
  endpoint.on_segment(data_at(kIrs + 1, 100), kStart);
  endpoint.accept(100, kStart);
  OutSegment response = endpoint.send_data(40, kStart);
  EXPECT_EQ(response.ack, kIrs + 101);
  EXPECT_FALSE(endpoint.poll(kStart));
  endpoint.on_timer(kStart + kDelay);
  EXPECT_FALSE(endpoint.poll(kStart + kDelay)) << "nothing left to acknowledge";
}

TEST(TcpEndpointDelayedAck, SecondSegmentIsAckedAtOnce) {
  Endpoint endpoint = established_with_delayed_ack();
  endpoint.on_segment(data_at(kIrs + 1, 100), kStart);
  endpoint.accept(100, kStart);
  endpoint.on_segment(data_at(kIrs + 101, 100), kStart);
  endpoint.accept(100, kStart);
  auto ack = endpoint.poll(kStart);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->ack, kIrs + 201);
}

TEST(TcpEndpointDelayedAck, FinIsAckedAtOnce) {
  Endpoint endpoint = established_with_delayed_ack();
  endpoint.on_segment(data_at(kIrs + 1, 100, kFin), kStart);
  EXPECT_TRUE(endpoint.accept(100, kStart));
  auto ack = endpoint.poll(kStart);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->ack, kIrs + 102);
}

TEST(TcpEndpointDelayedAck, PartialTakeIsAnsweredAtOnce) {
  Endpoint endpoint = established_with_delayed_ack();
  endpoint.on_segment(data_at(kIrs + 1, 100), kStart);
  endpoint.accept(60, kStart);
  auto ack = endpoint.poll(kStart);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->ack, kIrs + 61);
}

TEST(TcpEndpointDelayedAck, GapIsAnsweredAtOnce) {
  Endpoint endpoint = established_with_delayed_ack();
  endpoint.on_segment(data_at(kIrs + 1, 100), kStart);
  endpoint.accept(100, kStart);
  endpoint.on_segment(data_at(kIrs + 301, 100), kStart);
  auto ack = endpoint.poll(kStart);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->ack, kIrs + 101);
}

}  // namespace
}  // namespace rtether::tcp
