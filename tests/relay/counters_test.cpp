// Counters: the one table drives the fields, the sum and the summary.
#include "relay/counters.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace rtether::relay {
namespace {

TEST(Counters, SumAddsEveryCounterOfTheTable) {
  Counters a;
  Counters b;
  std::uint64_t index = 1;
#define SET_DISTINCT(name, meaning) \
  a.name = index;                   \
  b.name = 1000 * index;            \
  ++index;
  RTETHER_RELAY_COUNTERS(SET_DISTINCT)
#undef SET_DISTINCT
  a += b;
  index = 1;
#define EXPECT_SUM(name, meaning)              \
  EXPECT_EQ(a.name, 1001 * index) << #name;    \
  ++index;
  RTETHER_RELAY_COUNTERS(EXPECT_SUM)
#undef EXPECT_SUM
}

TEST(Counters, ForEachVisitsEveryCounterOnceWithItsMeaning) {
  Counters counters;
  counters.drop_fragment = 5;
  std::set<std::string> names;
  std::size_t visits = 0;
  std::uint64_t fragment_value = 0;
  counters.for_each([&](const char* name, const char* meaning, std::uint64_t value) {
    ++visits;
    names.insert(name);
    EXPECT_NE(std::string(meaning), "") << name;
    if (std::string(name) == "drop_fragment") fragment_value = value;
  });
  std::size_t table_lines = 0;
#define COUNT_LINE(name, meaning) ++table_lines;
  RTETHER_RELAY_COUNTERS(COUNT_LINE)
#undef COUNT_LINE
  EXPECT_EQ(visits, table_lines);
  EXPECT_EQ(names.size(), table_lines);
  EXPECT_EQ(fragment_value, 5u);
}

TEST(Counters, SummaryListsNonZeroCountersInTableOrder) {
  Counters counters;
  EXPECT_EQ(counters.summary(), "no traffic");
  counters.bytes_to_device = 7;
  counters.drop_fragment = 3;
  EXPECT_EQ(counters.summary(), "drop_fragment=3 bytes_to_device=7");
}

}  // namespace
}  // namespace rtether::relay
