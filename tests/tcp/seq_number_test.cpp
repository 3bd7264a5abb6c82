// tcp::SeqNumber: modular ordering (RFC 9293 3.4), arithmetic with lengths,
// distances and windows, across the wrap from 2^32 - 1 to 0.
#include <gtest/gtest.h>

#include <type_traits>

#include "tcp/seq_number_printer.hpp"

namespace rtether::tcp {
namespace {

constexpr SeqNumber seq(std::uint32_t raw) { return SeqNumber{raw}; }

static_assert(!std::is_convertible_v<std::uint32_t, SeqNumber>, "no implicit wrap of raw values");
static_assert(!std::is_convertible_v<SeqNumber, std::uint32_t>, "raw() is the only way out");

TEST(TcpSeqNumber, KeepsTheRawFieldValue) {
  EXPECT_EQ(seq(0xDEADBEEF).raw(), 0xDEADBEEFu);
  EXPECT_EQ(SeqNumber{}.raw(), 0u);
}

TEST(TcpSeqNumber, OrdersByDistanceNotByValue) {
  EXPECT_LT(seq(1), seq(2));
  EXPECT_GT(seq(2), seq(1));
  EXPECT_LE(seq(2), seq(2));
  EXPECT_GE(seq(2), seq(2));
  EXPECT_FALSE(seq(2) < seq(2));
  // Just past the wrap is after just before it.
  EXPECT_LT(seq(0xFFFFFFF0), seq(0x10));
  EXPECT_GT(seq(0x10), seq(0xFFFFFFF0));
  EXPECT_LE(seq(0xFFFFFFFF), seq(0));
  EXPECT_GE(seq(0), seq(0xFFFFFFFF));
}

TEST(TcpSeqNumber, AnythingLessThanHalfTheSpaceAheadIsLater) {
  EXPECT_LT(seq(5), seq(5) + 0x7FFFFFFF);
  EXPECT_GT(seq(5), seq(5) + 0x80000001);  // more than half ahead: behind
}

TEST(TcpSeqNumber, AddsAndSubtractsLengthsModulo2To32) {
  EXPECT_EQ(seq(0xFFFFFFFF) + 1, seq(0));
  EXPECT_EQ(seq(0xFFFFFF00) + 0x200, seq(0x100));
  EXPECT_EQ(seq(0x10) - 0x20, seq(0xFFFFFFF0));
  SeqNumber moving = seq(0xFFFFFFFE);
  moving += 3;
  EXPECT_EQ(moving, seq(1));
  moving -= 2;
  EXPECT_EQ(moving, seq(0xFFFFFFFF));
}

TEST(TcpSeqNumber, DifferenceCountsSequenceNumbersAcrossTheWrap) {
  EXPECT_EQ(seq(0x55) - seq(0xFFFFFFF1), 100u);
  EXPECT_EQ(seq(1000) - seq(1000), 0u);
}

TEST(TcpSeqNumber, UntilIsZeroWhenTheEndIsNotAhead) {
  EXPECT_EQ(seq(0xFFFFFFF1).until(seq(0x55)), 100u);
  EXPECT_EQ(seq(0x55).until(seq(0xFFFFFFF1)), 0u);
  EXPECT_EQ(seq(7).until(seq(7)), 0u);
}

TEST(TcpSeqNumber, WindowIncludesItsStartAndExcludesItsEnd) {
  const SeqNumber start = seq(0xFFFFFF00);
  EXPECT_TRUE(start.in_window(start, 0x200));
  EXPECT_TRUE((start + 0x1FF).in_window(start, 0x200));  // the last one, past the wrap
  EXPECT_FALSE(seq(0x100).in_window(start, 0x200));
  EXPECT_FALSE((start - 1).in_window(start, 0x200));
  EXPECT_FALSE(start.in_window(start, 0)) << "an empty window holds nothing";
}

}  // namespace
}  // namespace rtether::tcp
