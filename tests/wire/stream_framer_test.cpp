// StreamFramer: a stream of mixed IPv4/IPv6 packets comes out packet for
// packet whatever the split of reads; unframeable input is a sticky error.
#include "wire/stream_framer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "wire/raw_packets.hpp"

namespace rtether::wire {
namespace {

using test::build;
using test::ByteVector;
using test::RawIpv4;
using test::RawIpv6;

ByteVector payload_of(std::size_t size, std::uint8_t seed) {
  ByteVector out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::uint8_t>(i + seed);
  return out;
}

// An IPv4 packet of exactly `total` bytes (total >= 20).
ByteVector ipv4_packet(std::size_t total, std::uint8_t seed) {
  RawIpv4 raw;
  raw.payload = payload_of(total - kIpv4MinHeader, seed);
  return build(raw);
}

// An IPv6 packet of exactly `total` bytes (total >= 40).
ByteVector ipv6_packet(std::size_t total, std::uint8_t seed) {
  RawIpv6 raw;
  raw.payload = payload_of(total - kIpv6Header, seed);
  return build(raw);
}

ByteVector joined(const std::vector<ByteVector>& packets) {
  ByteVector out;
  for (const auto& packet : packets) out.insert(out.end(), packet.begin(), packet.end());
  return out;
}

// Feeds `data` into the framer through writable()/commit() as the owner
// would (at most `chunk` bytes per read) and drains every packet after
// each read.
void feed(StreamFramer& framer, Bytes data, std::vector<ByteVector>& packets) {
  while (!data.empty()) {
    const MutableBytes room = framer.writable();
    ASSERT_FALSE(room.empty()) << "writable() must not be empty while not failed";
    const std::size_t n = std::min(room.size(), data.size());
    std::memcpy(room.data(), data.data(), n);
    framer.commit(n);
    data = data.subspan(n);
    while (auto packet = framer.next()) packets.emplace_back(packet->begin(), packet->end());
  }
}

const std::vector<ByteVector>& short_stream() {
  static const std::vector<ByteVector> packets = {
      ipv4_packet(20, 1),  ipv6_packet(40, 2),  ipv4_packet(21, 3),  ipv6_packet(41, 4),
      ipv4_packet(576, 5), ipv6_packet(1280, 6), ipv4_packet(1500, 7), ipv6_packet(99, 8),
  };
  return packets;
}

TEST(StreamFramer, CutsAShortStreamAtEverySplitPoint) {
  const auto& expected = short_stream();
  const ByteVector stream = joined(expected);
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    StreamFramer framer;
    std::vector<ByteVector> packets;
    feed(framer, Bytes(stream).first(split), packets);
    feed(framer, Bytes(stream).subspan(split), packets);
    ASSERT_EQ(packets, expected) << "split at " << split;
    EXPECT_EQ(framer.buffered(), 0u);
    EXPECT_FALSE(framer.failed());
  }
}

TEST(StreamFramer, CutsAStreamFedOneByteAtATime) {
  const auto& expected = short_stream();
  const ByteVector stream = joined(expected);
  StreamFramer framer;
  std::vector<ByteVector> packets;
  for (std::size_t i = 0; i < stream.size(); ++i) feed(framer, Bytes(stream).subspan(i, 1), packets);
  EXPECT_EQ(packets, expected);
}

TEST(StreamFramer, CutsALongStreamWithMaximalPacketsAtRandomSplits) {
  std::mt19937 generator(65535);
  std::uniform_int_distribution<std::size_t> size4(20, 3000);
  std::uniform_int_distribution<std::size_t> size6(40, 3000);
  std::vector<ByteVector> expected;
  for (int i = 0; i < 300; ++i) {
    const auto seed = static_cast<std::uint8_t>(i);
    switch (i % 7) {
      case 0: expected.push_back(ipv4_packet(kMaxPacket, seed)); break;
      case 3: expected.push_back(ipv6_packet(kMaxPacket + kIpv6Header, seed)); break;
      case 1:
      case 4: expected.push_back(ipv6_packet(size6(generator), seed)); break;
      default: expected.push_back(ipv4_packet(size4(generator), seed)); break;
    }
  }
  const ByteVector stream = joined(expected);

  for (std::size_t max_read : {7u, 1500u, 65536u, 200000u}) {
    std::uniform_int_distribution<std::size_t> read_size(1, max_read);
    StreamFramer framer;
    std::vector<ByteVector> packets;
    Bytes rest(stream);
    while (!rest.empty()) {
      const std::size_t n = std::min(read_size(generator), rest.size());
      feed(framer, rest.first(n), packets);
      rest = rest.subspan(n);
    }
    ASSERT_EQ(packets.size(), expected.size()) << "reads up to " << max_read;
    EXPECT_TRUE(packets == expected) << "reads up to " << max_read;
  }
}

TEST(StreamFramer, WaitsForTheBytesThatCarryTheLength) {
  const auto packet = ipv6_packet(60, 9);
  StreamFramer framer;
  std::vector<ByteVector> packets;
  feed(framer, Bytes(packet).first(5), packets);
  EXPECT_TRUE(packets.empty());
  EXPECT_EQ(framer.buffered(), 5u);
  feed(framer, Bytes(packet).subspan(5, 54), packets);
  EXPECT_TRUE(packets.empty());
  EXPECT_EQ(framer.buffered(), 59u);
  feed(framer, Bytes(packet).subspan(59), packets);
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(packets[0], packet);
  EXPECT_EQ(framer.buffered(), 0u);
}

TEST(StreamFramer, HandsOutGoodPacketsBeforeABadVersionThenStaysFailed) {
  ByteVector stream = joined({ipv4_packet(40, 1), ipv6_packet(48, 2)});
  stream.push_back(0x50);  // version 5
  stream.insert(stream.end(), 100, 0x45);
  StreamFramer framer;
  std::vector<ByteVector> packets;
  const MutableBytes room = framer.writable();
  std::memcpy(room.data(), stream.data(), stream.size());
  framer.commit(stream.size());
  while (auto packet = framer.next()) packets.emplace_back(packet->begin(), packet->end());

  EXPECT_EQ(packets.size(), 2u);
  EXPECT_TRUE(framer.failed());
  EXPECT_EQ(framer.error(), IpError::BadVersion);
  EXPECT_FALSE(framer.next());
  EXPECT_TRUE(framer.writable().empty());
  EXPECT_EQ(framer.error(), IpError::BadVersion);
}

TEST(StreamFramer, FailsOnAnIpv4TotalLengthBelowTheHeader) {
  RawIpv4 raw;
  raw.total_length = 19;
  const auto packet = build(raw);
  StreamFramer framer;
  const MutableBytes room = framer.writable();
  std::memcpy(room.data(), packet.data(), packet.size());
  framer.commit(packet.size());
  EXPECT_FALSE(framer.next());
  EXPECT_TRUE(framer.failed());
  EXPECT_EQ(framer.error(), IpError::BadTotalLength);
}

TEST(StreamFramer, FailsOnGarbageAtTheStartOfTheStream) {
  const ByteVector garbage = {0x00, 0x01, 0x02, 0x03};
  StreamFramer framer;
  const MutableBytes room = framer.writable();
  std::memcpy(room.data(), garbage.data(), garbage.size());
  framer.commit(garbage.size());
  EXPECT_FALSE(framer.next());
  EXPECT_EQ(framer.error(), IpError::BadVersion);
}

TEST(StreamFramer, RaisesASmallCapacityToTwoMaximalPackets) {
  StreamFramer framer(1024);
  EXPECT_GE(framer.writable().size(), 2 * kMaxPacket);
}

TEST(StreamFramer, KeepsRoomForAMaximalPacketAfterCompaction) {
  // Fill with small packets, leaving the start of a maximal one pending at
  // the far end of the buffer: the next writable() must compact and offer
  // room for the rest of it.
  StreamFramer framer(2 * kMaxPacket);
  const auto small = ipv4_packet(1000, 1);
  const auto big = ipv4_packet(kMaxPacket, 2);
  std::vector<ByteVector> packets;
  for (int i = 0; i < 120; ++i) feed(framer, small, packets);
  feed(framer, Bytes(big).first(30000), packets);
  const MutableBytes room = framer.writable();
  EXPECT_GE(room.size(), big.size() - 30000);
  feed(framer, Bytes(big).subspan(30000), packets);
  ASSERT_EQ(packets.size(), 121u);
  EXPECT_EQ(packets.back(), big);
}

}  // namespace
}  // namespace rtether::wire
