// Internet checksum: the fast sum against the 16-bit reference loop, the
// RFC 1071 worked example and piecewise sums.
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

}  // namespace
}  // namespace rtether::wire
