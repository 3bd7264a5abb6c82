// ByteQueue: FIFO order, capacity limits, compaction and lazy release.
#include "relay/byte_queue.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

namespace rtether::relay {
namespace {

std::vector<std::uint8_t> sequence(std::size_t size, std::uint8_t start) {
  std::vector<std::uint8_t> bytes(size);
  std::iota(bytes.begin(), bytes.end(), start);
  return bytes;
}

TEST(ByteQueue, AppendStopsAtCapacity) {
  ByteQueue queue(10);
  auto data = sequence(16, 0);
  EXPECT_EQ(queue.append(data), 10u);
  EXPECT_EQ(queue.free_space(), 0u);
  EXPECT_EQ(queue.append(data), 0u);
}

TEST(ByteQueue, FrontKeepsOrderAcrossConsumeAndCompaction) {
  ByteQueue queue(8);
  queue.append(sequence(6, 0));
  queue.consume(4);
  // Tail has 2 bytes left; reserving 5 must compact the 2 pending bytes first.
  auto room = queue.reserve(5);
  ASSERT_EQ(room.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) room[i] = static_cast<std::uint8_t>(100 + i);
  queue.commit(5);
  std::vector<std::uint8_t> front(queue.front().begin(), queue.front().end());
  EXPECT_EQ(front, (std::vector<std::uint8_t>{4, 5, 100, 101, 102, 103, 104}));
}

TEST(ByteQueue, ReserveBeyondFreeSpaceIsEmpty) {
  ByteQueue queue(8);
  queue.append(sequence(4, 0));
  EXPECT_TRUE(queue.reserve(5).empty());
  EXPECT_EQ(queue.reserve(4).size(), 4u);
}

TEST(ByteQueue, DrainingReturnsToEmpty) {
  ByteQueue queue(8, ByteQueue::WhenEmpty::Keep);
  queue.append(sequence(8, 0));
  queue.consume(8);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.free_space(), 8u);
  EXPECT_EQ(queue.append(sequence(3, 7)), 3u);
  EXPECT_EQ(queue.front()[0], 7);
}

}  // namespace
}  // namespace rtether::relay
