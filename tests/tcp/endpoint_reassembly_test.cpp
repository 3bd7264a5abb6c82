// tcp::Endpoint holding out-of-order device data: a hole gets a duplicate
// ACK, held data comes out through take_reassembled() once the hole is
// filled, in order, trimmed where it overlaps, with a held FIN, and within
// the advertised window.
#include <gtest/gtest.h>

#include <numeric>
#include <string>

#include "tcp/endpoint_fixtures.hpp"

namespace rtether::tcp {
namespace {

using namespace fixtures;

// Stream bytes 0..n-1 where byte i is (i % 251): any misplaced byte shows.
const std::vector<std::uint8_t>& stream_bytes() {
  static const std::vector<std::uint8_t> bytes = [] {
    std::vector<std::uint8_t> b(200000);
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i % 251);
    return b;
  }();
  return bytes;
}

// Device segment carrying stream bytes [offset, offset + size).
Segment stream_segment(std::size_t offset, std::size_t size, std::uint8_t extra_flags = 0) {
  return device_segment(kIrs + 1 + static_cast<std::uint32_t>(offset), kIss + 1, kAck | extra_flags,
                        1000, wire::Bytes(stream_bytes()).subspan(offset, size));
}

// Takes everything the endpoint offers (in-order data, then reassembled
// data) into `out`; returns whether a FIN was consumed.
bool take_all(Endpoint& endpoint, const Endpoint::Input& input, std::vector<std::uint8_t>& out,
              bool fin_flag) {
  bool fin = false;
  if (!input.data.empty() || fin_flag) {
    out.insert(out.end(), input.data.begin(), input.data.end());
    fin = endpoint.accept(input.data.size(), kStart);
  }
  while (auto more = endpoint.take_reassembled()) {
    out.insert(out.end(), more->begin(), more->end());
    fin = endpoint.accept(more->size(), kStart) || fin;
  }
  return fin;
}

TEST(TcpEndpointReassembly, HeldSegmentIsDeliveredWhenTheHoleIsFilled) {
  Endpoint endpoint = established();
  std::vector<std::uint8_t> received;
  auto held = endpoint.on_segment(stream_segment(100, 100), kStart);
  EXPECT_TRUE(held.data.empty());
  EXPECT_EQ(endpoint.poll(kStart)->ack, kIrs + 1) << "duplicate ACK for the hole";
  EXPECT_EQ(endpoint.out_of_order_bytes(), 100u);
  EXPECT_FALSE(endpoint.take_reassembled()) << "the hole is still open";

  auto filler = endpoint.on_segment(stream_segment(0, 100), kStart);
  take_all(endpoint, filler, received, false);
  ASSERT_EQ(received.size(), 200u);
  EXPECT_TRUE(std::equal(received.begin(), received.end(), stream_bytes().begin()));
  EXPECT_EQ(endpoint.rcv_nxt(), kIrs + 201);
  auto acks = drain(endpoint, kStart);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].ack, kIrs + 201) << "one ACK covers the filled hole and the held data";
  EXPECT_EQ(endpoint.out_of_order_bytes(), 0u);
}

TEST(TcpEndpointReassembly, OverlappingAndDuplicateSegmentsComeOutOnce) {
  Endpoint endpoint = established();
  std::vector<std::uint8_t> received;
  endpoint.on_segment(stream_segment(300, 200), kStart);
  endpoint.on_segment(stream_segment(150, 200), kStart);  // overlaps the next one
  endpoint.on_segment(stream_segment(300, 100), kStart);  // shorter duplicate: ignored
  endpoint.on_segment(stream_segment(600, 50), kStart);   // beyond a second hole
  auto filler = endpoint.on_segment(stream_segment(0, 160), kStart);
  take_all(endpoint, filler, received, false);
  ASSERT_EQ(received.size(), 500u);
  EXPECT_TRUE(std::equal(received.begin(), received.end(), stream_bytes().begin()));
  EXPECT_EQ(endpoint.out_of_order_bytes(), 50u) << "data past the second hole stays held";

  auto second = endpoint.on_segment(stream_segment(500, 100), kStart);
  take_all(endpoint, second, received, false);
  ASSERT_EQ(received.size(), 650u);
  EXPECT_TRUE(std::equal(received.begin(), received.end(), stream_bytes().begin()));
}

TEST(TcpEndpointReassembly, HeldFinIsConsumedAfterTheHeldData) {
  Endpoint endpoint = established();
  std::vector<std::uint8_t> received;
  endpoint.on_segment(stream_segment(100, 50, kFin), kStart);
  auto filler = endpoint.on_segment(stream_segment(0, 100), kStart);
  EXPECT_TRUE(take_all(endpoint, filler, received, false));
  EXPECT_EQ(received.size(), 150u);
  EXPECT_EQ(endpoint.state(), State::CloseWait);
  EXPECT_EQ(endpoint.rcv_nxt(), kIrs + 152);
}

TEST(TcpEndpointReassembly, PartialAcceptOfReassembledDataOffersTheRestAgain) {
  Endpoint endpoint = established();
  endpoint.on_segment(stream_segment(100, 100), kStart);
  auto filler = endpoint.on_segment(stream_segment(0, 100), kStart);
  endpoint.accept(filler.data.size(), kStart);
  auto more = endpoint.take_reassembled();
  ASSERT_TRUE(more);
  ASSERT_EQ(more->size(), 100u);
  endpoint.accept(30, kStart);
  auto rest = endpoint.take_reassembled();
  ASSERT_TRUE(rest);
  ASSERT_EQ(rest->size(), 70u);
  EXPECT_EQ((*rest)[0], stream_bytes()[130]);
}

TEST(TcpEndpointReassembly, DataBeyondTheWindowIsNotHeld) {
  Handshake setup;
  setup.config.receive_buffer = 1000;
  setup.device_window_scale.reset();
  Endpoint endpoint = established(setup);
  endpoint.on_segment(stream_segment(900, 300), kStart);
  EXPECT_EQ(endpoint.out_of_order_bytes(), 100u) << "trimmed at the window's right edge";
  endpoint.on_segment(stream_segment(1000, 300), kStart);
  EXPECT_EQ(endpoint.out_of_order_bytes(), 100u) << "entirely beyond the window";
}

TEST(TcpEndpointReassembly, HeldDataIsFreedWhenTheConnectionResets) {
  Endpoint endpoint = established();
  endpoint.on_segment(stream_segment(100, 100), kStart);
  endpoint.on_segment(device_segment(kIrs + 1, kIss + 1, kRst, 0), kStart);
  EXPECT_TRUE(endpoint.closed());
  EXPECT_EQ(endpoint.out_of_order_bytes(), 0u);
}

TEST(TcpEndpointReassembly, HoldsAcrossSequenceWraparound) {
  Handshake setup;
  setup.irs = SeqNumber{0xFFFFFF00};
  Endpoint endpoint = established(setup);
  std::vector<std::uint8_t> received;
  auto at = [&](std::size_t offset, std::size_t size) {
    return device_segment(setup.irs + 1 + static_cast<std::uint32_t>(offset), kIss + 1, kAck, 1000,
                          wire::Bytes(stream_bytes()).subspan(offset, size));
  };
  endpoint.on_segment(at(400, 200), kStart);  // past the wrap
  auto filler = endpoint.on_segment(at(0, 400), kStart);
  take_all(endpoint, filler, received, false);
  ASSERT_EQ(received.size(), 600u);
  EXPECT_TRUE(std::equal(received.begin(), received.end(), stream_bytes().begin()));
  EXPECT_EQ(endpoint.rcv_nxt(), setup.irs + 601);
}

}  // namespace
}  // namespace rtether::tcp
