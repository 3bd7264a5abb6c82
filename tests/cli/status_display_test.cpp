// Status display text: units, rates, durations and the client line.
#include "cli/status_display.hpp"

#include <gtest/gtest.h>

namespace rtether::cli {
namespace {

TEST(FormatBytes, DecimalUnits) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(999), "999 B");
  EXPECT_EQ(format_bytes(1000), "1.0 kB");
  EXPECT_EQ(format_bytes(1'500'000), "1.5 MB");
  EXPECT_EQ(format_bytes(999'960), "1.0 MB");
  EXPECT_EQ(format_bytes(12'345'678'901), "12.3 GB");
  EXPECT_EQ(format_bytes(UINT64_MAX), "18.4 EB");
}

TEST(FormatRate, BitsPerSecond) {
  EXPECT_EQ(format_rate(0), "0 bit/s");
  EXPECT_EQ(format_rate(-5), "0 bit/s");
  EXPECT_EQ(format_rate(100), "800 bit/s");
  EXPECT_EQ(format_rate(125'000), "1.0 Mbit/s");
  EXPECT_EQ(format_rate(12'500'000'000.0), "100.0 Gbit/s");
}

TEST(FormatDuration, HoursMinutesSeconds) {
  EXPECT_EQ(format_duration(std::chrono::seconds(0)), "0:00:00");
  EXPECT_EQ(format_duration(std::chrono::seconds(3723)), "1:02:03");
  EXPECT_EQ(format_duration(std::chrono::seconds(-4)), "0:00:00");
}

TEST(FormatClientLine, ShowsIdFlowsRatesAndTotals) {
  ClientLine line;
  line.stats.id = 7;
  line.stats.open_flows = 12;
  line.stats.bytes_to_device = 2'000'000;
  line.stats.bytes_from_device = 3'000;
  line.down_bytes_per_second = 125'000;
  line.up_bytes_per_second = 1'000;
  line.connected_for = std::chrono::seconds(61);
  std::string text = format_client_line(line);
  EXPECT_EQ(text, "client 7   0:01:01  flows 12  down 1.0 Mbit/s (2.0 MB)  up 8.0 kbit/s (3.0 kB)");
  for (const char* part :
       {"client 7", "0:01:01", "flows 12", "1.0 Mbit/s", "8.0 kbit/s", "2.0 MB", "3.0 kB"})
    EXPECT_NE(text.find(part), std::string::npos) << part << " in " << text;
}

TEST(DeviceBoard, LastStateWins) {
  DeviceBoard board;
  board.set("A", "starting");
  board.set("B", "gone");
  board.set("A", "started");
  auto states = board.snapshot();
  EXPECT_EQ(states.size(), 2u);
  EXPECT_EQ(states["A"], "started");
}

}  // namespace
}  // namespace rtether::cli
