// process_usage: this process's resident memory (Linux /proc/self/statm,
// Windows GetProcessMemoryInfo); the descriptor counts are per OS
// (linux/, windows/).
#include "io/process_usage.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>

namespace rtether::io {
namespace {

TEST(ProcessUsage, ResidentMemoryIsReportedAndGrowsWithTouchedPages) {
  auto before = process_usage().resident_bytes;
  ASSERT_TRUE(before.has_value());
  EXPECT_GT(*before, 0u);
  // 64 MiB written: resident whatever the allocator held before.
  constexpr std::size_t kTouched = 64u << 20;
  auto block = std::make_unique<char[]>(kTouched);
  std::memset(block.get(), 1, kTouched);
  auto after = process_usage().resident_bytes;
  ASSERT_TRUE(after.has_value());
  EXPECT_GE(*after, kTouched);
  EXPECT_EQ(block[kTouched - 1], 1);
}

}  // namespace
}  // namespace rtether::io
