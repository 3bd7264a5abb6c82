// tcp::Assembler: holes, what becomes contiguous when one fills, overlaps,
// duplicates, the window and segment limits, a held FIN, and stream offsets
// past 2^32 (where 32-bit sequence numbers have wrapped).
#include <gtest/gtest.h>

#include <vector>

#include "tcp/assembler.hpp"

namespace rtether::tcp {
namespace {

constexpr std::uint32_t kWindow = 100000;

// Stream bytes where byte i is (i % 251): any misplaced byte shows.
const std::vector<std::uint8_t>& stream_bytes() {
  static const std::vector<std::uint8_t> bytes = [] {
    std::vector<std::uint8_t> b(200000);
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i % 251);
    return b;
  }();
  return bytes;
}

wire::Bytes stream(std::size_t offset, std::size_t size) {
  return wire::Bytes(stream_bytes()).subspan(offset, size);
}

// Plays the receiver: `delivered` in-order bytes so far; takes everything
// the assembler has that continues them. Returns whether a FIN came out.
bool take_contiguous(Assembler& assembler, std::vector<std::uint8_t>& delivered) {
  bool fin = false;
  while (auto next = assembler.contiguous()) {
    delivered.insert(delivered.end(), next->bytes.begin(), next->bytes.end());
    fin = fin || next->fin;
    assembler.advance(next->bytes.size());
    if (next->fin) break;
  }
  return fin;
}

// Holds stream bytes [offset, offset + size) while `delivered` bytes are in.
void hold_stream(Assembler& assembler, const std::vector<std::uint8_t>& delivered,
                 std::size_t offset, std::size_t size, bool fin = false) {
  const auto ahead = static_cast<std::uint32_t>(offset - delivered.size());
  assembler.hold(ahead, stream(offset, size), fin, kWindow);
}

// In-order bytes [delivered.size(), end) arrive and are delivered.
void deliver_in_order(Assembler& assembler, std::vector<std::uint8_t>& delivered,
                      std::size_t end) {
  const wire::Bytes bytes = stream(delivered.size(), end - delivered.size());
  delivered.insert(delivered.end(), bytes.begin(), bytes.end());
  assembler.advance(bytes.size());
}

bool is_stream_prefix(const std::vector<std::uint8_t>& delivered) {
  return std::equal(delivered.begin(), delivered.end(), stream_bytes().begin());
}

TEST(TcpAssembler, NothingIsContiguousWhileTheHoleIsOpen) {
  Assembler assembler;
  EXPECT_FALSE(assembler.contiguous());
  std::vector<std::uint8_t> delivered;
  hold_stream(assembler, delivered, 100, 100);
  EXPECT_EQ(assembler.held_bytes(), 100u);
  EXPECT_FALSE(assembler.contiguous());
  deliver_in_order(assembler, delivered, 50);
  EXPECT_FALSE(assembler.contiguous()) << "half the hole is still open";
}

TEST(TcpAssembler, FillingTheHoleMakesTheHeldBytesContiguous) {
  Assembler assembler;
  std::vector<std::uint8_t> delivered;
  hold_stream(assembler, delivered, 100, 100);
  deliver_in_order(assembler, delivered, 100);
  auto next = assembler.contiguous();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->bytes.size(), 100u);
  EXPECT_FALSE(next->fin);
  EXPECT_FALSE(take_contiguous(assembler, delivered));
  ASSERT_EQ(delivered.size(), 200u);
  EXPECT_TRUE(is_stream_prefix(delivered));
  EXPECT_EQ(assembler.held_bytes(), 0u);
  EXPECT_EQ(assembler.held_segments(), 0u);
}

TEST(TcpAssembler, FillingOneHoleStopsAtTheNext) {
  Assembler assembler;
  std::vector<std::uint8_t> delivered;
  hold_stream(assembler, delivered, 100, 100);
  hold_stream(assembler, delivered, 300, 100);
  deliver_in_order(assembler, delivered, 100);
  take_contiguous(assembler, delivered);
  EXPECT_EQ(delivered.size(), 200u);
  EXPECT_EQ(assembler.held_bytes(), 100u);
  deliver_in_order(assembler, delivered, 300);
  take_contiguous(assembler, delivered);
  ASSERT_EQ(delivered.size(), 400u);
  EXPECT_TRUE(is_stream_prefix(delivered));
}

TEST(TcpAssembler, OverlapsComeOutOnceAndInOrder) {
  Assembler assembler;
  std::vector<std::uint8_t> delivered;
  hold_stream(assembler, delivered, 300, 200);
  hold_stream(assembler, delivered, 150, 200);  // overlaps the one above
  hold_stream(assembler, delivered, 320, 20);   // inside it
  deliver_in_order(assembler, delivered, 160);  // overlaps the first held one
  take_contiguous(assembler, delivered);
  ASSERT_EQ(delivered.size(), 500u);
  EXPECT_TRUE(is_stream_prefix(delivered));
  EXPECT_EQ(assembler.held_segments(), 0u) << "the one inside went with the one around it";
  EXPECT_EQ(assembler.held_bytes(), 0u);
}

TEST(TcpAssembler, ShorterDuplicateIsIgnoredAndLongerReplaces) {
  Assembler assembler;
  std::vector<std::uint8_t> delivered;
  hold_stream(assembler, delivered, 100, 100);
  hold_stream(assembler, delivered, 100, 50);
  EXPECT_EQ(assembler.held_bytes(), 100u);
  EXPECT_EQ(assembler.held_segments(), 1u);
  hold_stream(assembler, delivered, 100, 150);
  EXPECT_EQ(assembler.held_bytes(), 150u);
  EXPECT_EQ(assembler.held_segments(), 1u);
  hold_stream(assembler, delivered, 100, 150, true);  // same bytes, but the FIN is new
  deliver_in_order(assembler, delivered, 100);
  EXPECT_TRUE(take_contiguous(assembler, delivered));
  EXPECT_EQ(delivered.size(), 250u);
}

TEST(TcpAssembler, HeldFinComesOutAfterTheHeldBytes) {
  Assembler assembler;
  std::vector<std::uint8_t> delivered;
  hold_stream(assembler, delivered, 100, 50, true);
  deliver_in_order(assembler, delivered, 100);
  EXPECT_TRUE(take_contiguous(assembler, delivered));
  EXPECT_EQ(delivered.size(), 150u);
}

TEST(TcpAssembler, FinAloneStaysUntilTaken) {
  Assembler assembler;
  std::vector<std::uint8_t> delivered;
  hold_stream(assembler, delivered, 100, 50, true);
  deliver_in_order(assembler, delivered, 150);  // the bytes came in order, the FIN did not
  auto next = assembler.contiguous();
  ASSERT_TRUE(next);
  EXPECT_TRUE(next->bytes.empty());
  EXPECT_TRUE(next->fin);
}

TEST(TcpAssembler, PartialAdvanceOffersTheRestAgain) {
  Assembler assembler;
  std::vector<std::uint8_t> delivered;
  hold_stream(assembler, delivered, 100, 100);
  deliver_in_order(assembler, delivered, 100);
  assembler.advance(30);
  auto rest = assembler.contiguous();
  ASSERT_TRUE(rest);
  ASSERT_EQ(rest->bytes.size(), 70u);
  EXPECT_EQ(rest->bytes[0], stream_bytes()[130]);
}

TEST(TcpAssembler, OnlyTheWindowIsHeld) {
  Assembler assembler;
  assembler.hold(900, stream(900, 300), true, 1000);
  EXPECT_EQ(assembler.held_bytes(), 100u) << "cut at the window's right edge";
  assembler.advance(900);
  auto next = assembler.contiguous();
  ASSERT_TRUE(next);
  EXPECT_FALSE(next->fin) << "the FIN lay beyond the window";
  assembler.hold(1000, stream(1900, 10), false, 1000);
  EXPECT_EQ(assembler.held_segments(), 1u) << "starts beyond the window";
}

TEST(TcpAssembler, AtMostMaxSegmentsAreHeld) {
  Assembler assembler;
  for (std::uint32_t i = 0; i < Assembler::kMaxSegments + 10; ++i)
    assembler.hold(10 + 2 * i, stream(10 + 2 * i, 1), false, kWindow);
  EXPECT_EQ(assembler.held_segments(), Assembler::kMaxSegments);
  EXPECT_EQ(assembler.held_bytes(), Assembler::kMaxSegments);
}

TEST(TcpAssembler, ClearLetsEverythingGo) {
  Assembler assembler;
  assembler.hold(10, stream(10, 100), true, kWindow);
  assembler.clear();
  EXPECT_EQ(assembler.held_bytes(), 0u);
  assembler.advance(10);
  EXPECT_FALSE(assembler.contiguous());
}

TEST(TcpAssembler, StreamOffsetsPastFourGibibytesKeepTheirOrder) {
  Assembler assembler;
  assembler.advance(0xFFFFFF00);  // 32-bit sequence numbers are about to wrap
  assembler.hold(0x180, stream(0x180, 0x100), false, kWindow);
  assembler.hold(0x80, stream(0x80, 0x100), false, kWindow);  // straddles 2^32
  std::vector<std::uint8_t> delivered;
  deliver_in_order(assembler, delivered, 0x80);
  take_contiguous(assembler, delivered);
  ASSERT_EQ(delivered.size(), 0x280u);
  EXPECT_TRUE(is_stream_prefix(delivered));
}

}  // namespace
}  // namespace rtether::tcp
