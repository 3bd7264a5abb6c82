// Every line the recorded OpenVPN daemons sent is parsed and formatted back
// byte for byte by messages.hpp.
#include "mgmt/messages.hpp"

#include <gtest/gtest.h>

#include "mgmt/management_core.hpp"
#include "mgmt/transcript.hpp"

namespace rtether::mgmt {
namespace {

TEST(Messages, EveryRealtimeLineOfTheTranscriptsRoundTrips) {
  int checked = 0;
  for (const auto& name : testing::all_transcripts()) {
    for (const auto& event : testing::read_transcript(name)) {
      if (!event.from_daemon) continue;
      for (const auto& line : testing::crlf_lines(event.bytes)) {
        auto realtime = parse_realtime(line);
        if (!realtime) continue;
        const auto& body = realtime->body;
        if (realtime->type == "STATE") {
          auto state = parse_state(body);
          ASSERT_TRUE(state) << line;
          EXPECT_EQ(">STATE:" + format_state(*state), line);
        } else if (realtime->type == "BYTECOUNT") {
          auto count = parse_bytecount(body);
          ASSERT_TRUE(count) << line;
          EXPECT_EQ(bytecount_line(count->bytes_in, count->bytes_out), line);
        } else if (realtime->type == "NEED-OK") {
          auto request = parse_need_ok(body);
          ASSERT_TRUE(request) << line;
          EXPECT_EQ(need_ok_line(request->type, request->payload), line);
        } else if (realtime->type == "HOLD") {
          auto wait = std::stoi(body.substr(body.rfind(':') + 1));
          EXPECT_EQ(hold_line(wait), line);
        } else if (realtime->type == "FATAL") {
          EXPECT_EQ(fatal_line(body), line);
        } else if (realtime->type == "INFO") {
          if (line.find("Version 5 ") != std::string::npos) {
            EXPECT_EQ(info_greeting(), line);
          }
        } else if (realtime->type == "LOG") {
          auto first = body.find(',');
          auto second = body.find(',', first + 1);
          LogEntry entry{std::stol(body.substr(0, first)), body.substr(first + 1, second - first - 1),
                         body.substr(second + 1)};
          EXPECT_EQ(">LOG:" + format_log(entry), line);
        } else {
          continue;
        }
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 250);
}

TEST(Messages, ReplyLinesOfTheTranscriptsMatchTheFormatters) {
  int checked = 0;
  for (const auto& name : testing::all_transcripts()) {
    for (const auto& event : testing::read_transcript(name)) {
      if (!event.from_daemon) continue;
      for (const auto& line : testing::crlf_lines(event.bytes)) {
        if (line.rfind("SUCCESS: '", 0) == 0 && line.find("needok") != std::string::npos) {
          auto type = line.substr(10, line.find('\'', 10) - 10);
          EXPECT_EQ(need_ok_success(type), line);
          ++checked;
        } else if (line.rfind("PROTECTFD: fd '", 0) == 0) {
          EXPECT_EQ(protect_fd_reply(std::stoi(line.substr(15))), line);
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 100);
}

TEST(Messages, StateHasEightFieldsAndANinthOnlyForIpv6) {
  StateEntry entry{1795486571, "ADD_ROUTES", "", "", "", "", "", "", ""};
  EXPECT_EQ(format_state(entry), "1795486571,ADD_ROUTES,,,,,,");
  entry = {1795486572, "CONNECTED", "SUCCESS", "10.8.0.2", "127.0.0.1", "21196", "", "", "fd00::2"};
  EXPECT_EQ(format_state(entry), "1795486572,CONNECTED,SUCCESS,10.8.0.2,127.0.0.1,21196,,,fd00::2");
}

TEST(Messages, MalformedRealtimeBodiesAreRefused) {
  EXPECT_FALSE(parse_realtime("SUCCESS: pid=1"));
  EXPECT_FALSE(parse_realtime(">"));
  EXPECT_FALSE(parse_bytecount("1"));
  EXPECT_FALSE(parse_bytecount("1,x"));
  EXPECT_FALSE(parse_bytecount("1,2,3"));
  EXPECT_FALSE(parse_state("123,CONNECTED"));
  EXPECT_FALSE(parse_state("x,CONNECTED,SUCCESS"));
  EXPECT_FALSE(parse_need_ok("Need '' confirmation MSG:x"));
  EXPECT_FALSE(parse_need_ok("Want 'IFCONFIG' confirmation"));
  auto request = parse_need_ok("Need 'OPENTUN' confirmation MSG:tun");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->type, "OPENTUN");
  EXPECT_EQ(request->payload, "tun");
}

}  // namespace
}  // namespace rtether::mgmt
