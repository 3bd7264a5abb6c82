// Internet checksum: the fast sum against the 16-bit reference loop, the
// RFC 1071 worked example, piecewise sums and RFC 1624 incremental updates.
#include "wire/checksum.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace rtether::wire {
namespace {

std::vector<std::uint8_t> random_bytes(std::size_t size, std::uint32_t seed) {
  std::mt19937 generator(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  std::vector<std::uint8_t> out(size);
  for (auto& b : out) b = static_cast<std::uint8_t>(byte(generator));
  return out;
}

TEST(InternetChecksum, MatchesReferenceForEveryLengthAndAlignment) {
  const auto data = random_bytes(2000 + 8, 1071);
  for (std::size_t offset = 0; offset < 8; ++offset) {
    for (std::size_t length = 0; length <= 2000; ++length) {
      const Bytes piece(data.data() + offset, length);
      ASSERT_EQ(internet_checksum(piece), internet_checksum_reference(piece))
          << "offset " << offset << " length " << length;
    }
  }
}

TEST(InternetChecksum, MatchesReferenceWhenEveryWordCarries) {
  const std::vector<std::uint8_t> ones(65535, 0xFF);
  for (std::size_t length : {1u, 2u, 7u, 8u, 31u, 32u, 33u, 65534u, 65535u}) {
    const Bytes piece(ones.data(), length);
    EXPECT_EQ(internet_checksum(piece), internet_checksum_reference(piece)) << length;
  }
}

TEST(InternetChecksum, MatchesReferenceOnMaximalRandomPackets) {
  for (std::uint32_t seed = 0; seed < 8; ++seed) {
    const auto data = random_bytes(65535, seed);
    EXPECT_EQ(internet_checksum(data), internet_checksum_reference(data));
  }
}

TEST(InternetChecksum, ReproducesTheRfc1071Example) {
  // RFC 1071 section 3: these bytes sum to ddf2, so the checksum is ~ddf2.
  const std::vector<std::uint8_t> data = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(checksum_fold(checksum_add(data)), 0xddf2);
  EXPECT_EQ(internet_checksum(data), 0x220d);
  EXPECT_EQ(internet_checksum_reference(data), 0x220d);
}

TEST(InternetChecksum, VerifiesACapturedIpv4HeaderToZero) {
  // A captured IPv4 header (192.168.0.1 -> 192.168.0.199, UDP) with its
  // checksum b861 in place.
  const std::vector<std::uint8_t> header = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
                                            0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
                                            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(internet_checksum(header), 0);
}

TEST(InternetChecksum, PadsAnOddTrailingByteWithZero) {
  const std::vector<std::uint8_t> odd = {0x12, 0x34, 0x56};
  const std::vector<std::uint8_t> padded = {0x12, 0x34, 0x56, 0x00};
  EXPECT_EQ(internet_checksum(odd), internet_checksum(padded));
}

TEST(InternetChecksum, OfNothingIsAllOnes) { EXPECT_EQ(internet_checksum(Bytes{}), 0xFFFF); }

TEST(ChecksumAdd, SumsPiecesInAnyOrderWhenEarlierPiecesAreEven) {
  const auto data = random_bytes(1501, 7);
  const Bytes whole(data);
  for (std::size_t split = 0; split <= data.size(); split += 2) {
    const auto front = whole.first(split);
    const auto back = whole.subspan(split);
    EXPECT_EQ(checksum_fold(checksum_add(back, checksum_add(front))),
              checksum_fold(checksum_add(whole)));
    EXPECT_EQ(checksum_fold(checksum_add(front) + checksum_add(back)),
              checksum_fold(checksum_add(whole)));
  }
}

TEST(ChecksumFold, FoldsCarriesRepeatedly) {
  EXPECT_EQ(checksum_fold(0), 0);
  EXPECT_EQ(checksum_fold(0xFFFF), 0xFFFF);
  EXPECT_EQ(checksum_fold(0x1'0000), 1);
  EXPECT_EQ(checksum_fold(0x1'FFFE), 0xFFFF);
  EXPECT_EQ(checksum_fold(0xFFFF'FFFF'FFFF'FFFFull), 0xFFFF);
}

TEST(ChecksumUpdate, SixteenBitChangeEqualsRecomputation) {
  std::mt19937 generator(1624);
  std::uniform_int_distribution<int> word(0, 0xFFFF);
  auto data = random_bytes(64, 1624);
  for (int round = 0; round < 2000; ++round) {
    const std::size_t at = 2 * static_cast<std::size_t>(round % 32);
    const std::uint16_t before = internet_checksum(data);
    const std::uint16_t old_value = load_be16(&data[at]);
    const auto new_value = static_cast<std::uint16_t>(word(generator));
    store_be16(&data[at], new_value);
    ASSERT_EQ(checksum_update16(before, old_value, new_value), internet_checksum(data));
  }
}

TEST(ChecksumUpdate, ThirtyTwoBitChangeEqualsRecomputation) {
  std::mt19937 generator(16241);
  auto data = random_bytes(40, 16241);
  for (int round = 0; round < 2000; ++round) {
    const std::size_t at = 4 * static_cast<std::size_t>(round % 10);
    const std::uint16_t before = internet_checksum(data);
    const std::uint32_t old_value = load_be32(&data[at]);
    const std::uint32_t new_value = generator();
    store_be32(&data[at], new_value);
    ASSERT_EQ(checksum_update32(before, old_value, new_value), internet_checksum(data));
  }
}

TEST(ChecksumUpdate, GivesPositiveZeroInTheRfc1624Example) {
  // RFC 1624 section 3: the other words sum to 0xCD7A and m = 0x5555
  // becomes m' = 0x3285, so HC = 0xDD2F and HC' = ~0xFFFF = 0x0000, where
  // eqn. 2 would have produced 0xFFFF.
  std::vector<std::uint8_t> data = {0xCD, 0x7A, 0x55, 0x55};
  ASSERT_EQ(internet_checksum(data), 0xDD2F);
  store_be16(&data[2], 0x3285);
  ASSERT_EQ(internet_checksum(data), 0x0000);
  EXPECT_EQ(checksum_update16(0xDD2F, 0x5555, 0x3285), 0x0000);
}

}  // namespace
}  // namespace rtether::wire
