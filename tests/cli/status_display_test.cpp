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

TEST(FormatClientLine, NamesTheTunQueueOfADirectModeNamespaceWithSeveral) {
  ClientLine line;
  line.stats.id = 1;
  line.stats.queue = {1, 2};
  EXPECT_EQ(format_client_line(line),
            "client 1   0:00:00  flows 0   down 0 bit/s (0 B)  up 0 bit/s (0 B)  queue 2/2");
}

TEST(FormatDeviceLine, ShowsTheBoardStateUntilTheRelayHasSeenAClient) {
  DeviceLine line;
  line.serial = "198.51.100.2:5555";
  line.state = "started (reverse tunnel to tcp:40001)";
  EXPECT_EQ(format_device_line(line),
            "device 198.51.100.2:5555 started (reverse tunnel to tcp:40001)");
  line.stats = relay::DeviceStats{};
  line.stats->serial = line.serial;
  EXPECT_EQ(format_device_line(line),
            "device 198.51.100.2:5555 started (reverse tunnel to tcp:40001)");
  line.state.clear();
  EXPECT_EQ(format_device_line(line), "device 198.51.100.2:5555 not connected");
  line.model = "Virtual_Phone";
  EXPECT_EQ(format_device_line(line), "device 198.51.100.2:5555 Virtual_Phone not connected");
}

TEST(FormatDeviceLine, AConnectedDeviceShowsFlowsRatesTotalsAndReconnects) {
  DeviceLine line;
  line.serial = "AAA";
  line.state = "started (reverse tunnel to tcp:40001)";
  relay::DeviceStats stats;
  stats.serial = "AAA";
  stats.connected = true;
  stats.open_flows = 3;
  stats.connections = 1;
  stats.counters.bytes_to_device = 2'000'000;
  stats.counters.bytes_from_device = 3'000;
  line.stats = stats;
  line.down_bytes_per_second = 125'000;
  line.up_bytes_per_second = 1'000;
  EXPECT_EQ(format_device_line(line),
            "device AAA connected  flows 3  down 1.0 Mbit/s (2.0 MB)  up 8.0 kbit/s (3.0 kB)");
  // Gone again after a reconnect: the totals stay, the state is the board's.
  line.stats->connected = false;
  line.stats->connections = 2;
  line.stats->reconnects = 1;
  line.stats->open_flows = 0;
  line.state = "gone";
  line.down_bytes_per_second = line.up_bytes_per_second = 0;
  EXPECT_EQ(format_device_line(line),
            "device AAA gone  flows 0  down 0 bit/s (2.0 MB)  up 0 bit/s (3.0 kB)  reconnects 1");
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

TEST(DeviceBoard, AGoneDeviceIsNotBroughtBackByALateStart) {
  DeviceBoard board;
  board.set("A", "starting");
  EXPECT_TRUE(board.set_unless_gone("A", "started"));
  EXPECT_EQ(board.snapshot().at("A"), "started");
  board.set("A", DeviceBoard::kGone);
  EXPECT_FALSE(board.set_unless_gone("A", "failed: adb said no"));
  EXPECT_EQ(board.snapshot().at("A"), "gone");
  EXPECT_TRUE(board.set_unless_gone("B", "starting"));  // unknown so far
  board.set("A", "waiting to start");                   // back again
  EXPECT_TRUE(board.set_unless_gone("A", "starting"));
  EXPECT_EQ(board.snapshot().at("A"), "starting");
}

TEST(DeviceBoard, GoneDevicesExpireAfterAMinute) {
  DeviceBoard board;
  board.set("gone", DeviceBoard::kGone);
  board.set("here", "started");
  board.expire_gone(DeviceBoard::Clock::now());  // just gone: kept
  board.expire_gone(DeviceBoard::Clock::now() + std::chrono::seconds(30));
  EXPECT_EQ(board.snapshot().size(), 2u);
  board.expire_gone(DeviceBoard::Clock::now() + std::chrono::seconds(61));
  auto left = board.snapshot();
  EXPECT_EQ(left.count("gone"), 0u);
  EXPECT_EQ(left.count("here"), 1u);  // only gone entries expire
}

TEST(FitToTerminal, CutsWidthAndCapsLinesAtHeightMinusOne) {
  std::vector<std::string> lines;
  for (int i = 0; i < 10; ++i) lines.push_back("line " + std::to_string(i) + " xxxxxxxxxx");
  auto fitted = fit_to_terminal(lines, 9, 5);
  ASSERT_EQ(fitted.size(), 4u);  // rows - 1: the cursor line stays free
  EXPECT_EQ(fitted[0], "line 0 x");
  EXPECT_EQ(fitted[2], "line 2 x");
  EXPECT_EQ(fitted[3], "... 7 mo");  // says how many were left out (cut too)
  auto roomy = fit_to_terminal(lines, 200, 40);
  EXPECT_EQ(roomy, lines);
  EXPECT_EQ(fit_to_terminal(lines, 0, 0), lines);  // size unknown: as is
  auto wide = fit_to_terminal(lines, 0, 3);
  ASSERT_EQ(wide.size(), 2u);
  EXPECT_EQ(wide[1], "... 9 more line(s) (a taller terminal shows them)");
}

TEST(RedrawTracker, RedrawsInPlaceOnlyWithoutALogLineInBetween) {
  RedrawTracker tracker(true);
  EXPECT_EQ(tracker.lines_to_move_up(5), 0u);  // nothing drawn yet
  tracker.drawn(3, 5);
  EXPECT_EQ(tracker.lines_to_move_up(5), 3u);
  EXPECT_EQ(tracker.lines_to_move_up(6), 0u);  // a log line below the picture
}

// The count is taken before writing: a line another thread logs while the
// picture is written must make the next picture start below it.
TEST(RedrawTracker, ALineLoggedWhileDrawingIsNotOverwritten) {
  RedrawTracker tracker(true);
  std::uint64_t before_writing = 7;
  // ... picture written; meanwhile the log count became 8 ...
  tracker.drawn(2, before_writing);
  EXPECT_EQ(tracker.lines_to_move_up(8), 0u);
}

TEST(RedrawTracker, LogLinesElsewhereNeverCount) {
  RedrawTracker tracker(false);  // stderr is not the status's terminal
  tracker.drawn(4, 0);
  EXPECT_EQ(tracker.lines_to_move_up(100), 4u);
}

}  // namespace
}  // namespace rtether::cli
