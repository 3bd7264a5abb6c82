// adb host protocol: request framing, the reply parser under every split,
// FAIL answers, bad streams, device list lines, and the ready-device tracker.
#include "adb/host_protocol.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rtether::adb {
namespace {

std::string framed(const std::string& payload) {
  char length[8];
  std::snprintf(length, sizeof length, "%04zx", payload.size());
  return length + payload;
}

TEST(FrameRequest, PrefixesFourLowercaseHexDigits) {
  EXPECT_EQ(frame_request("host:track-devices"), "0012host:track-devices");
  EXPECT_EQ(frame_request(""), "0000");
  EXPECT_EQ(frame_request(std::string(0xabc, 'x'))->substr(0, 4), "0abc");
}

TEST(FrameRequest, RefusesWhatFourHexDigitsCannotSay) {
  EXPECT_TRUE(frame_request(std::string(0xffff, 'x')).has_value());
  EXPECT_FALSE(frame_request(std::string(0x10000, 'x')).has_value());
}

TEST(ParseHexLength, AcceptsEitherCaseOnlyFourDigits) {
  EXPECT_EQ(parse_hex_length("0012"), 0x12u);
  EXPECT_EQ(parse_hex_length("FFff"), 0xffffu);
  EXPECT_FALSE(parse_hex_length("12"));
  EXPECT_FALSE(parse_hex_length("00g1"));
  EXPECT_FALSE(parse_hex_length("-001"));
  EXPECT_FALSE(parse_hex_length("00012"));
}

TEST(HostReplyParser, OkayThenMessagesInOneRead) {
  HostReplyParser parser;
  std::vector<std::string> messages;
  std::string stream = "OKAY" + framed("A\tdevice\n") + framed("") + framed("B\toffline\n");
  EXPECT_TRUE(parser.feed(stream, messages));
  EXPECT_TRUE(parser.acknowledged());
  EXPECT_EQ(messages, (std::vector<std::string>{"A\tdevice\n", "", "B\toffline\n"}));
  EXPECT_EQ(parser.buffered(), 0u);
}

TEST(HostReplyParser, SurvivesEverySplitOfTheStream) {
  std::string big;
  for (int i = 0; i < 100; ++i) big += "serial-number-" + std::to_string(i) + "\tdevice\n";
  ASSERT_GT(big.size(), 1024u);
  std::string stream = "OKAY" + framed("X\tdevice\n") + framed(big) + framed("");
  const std::vector<std::string> expected{"X\tdevice\n", big, ""};
  for (std::size_t first = 0; first <= stream.size(); first += 7) {
    for (std::size_t second = first; second <= stream.size(); second += 331) {
      HostReplyParser parser;
      std::vector<std::string> messages;
      ASSERT_TRUE(parser.feed(std::string_view(stream).substr(0, first), messages));
      ASSERT_TRUE(parser.feed(std::string_view(stream).substr(first, second - first), messages));
      ASSERT_TRUE(parser.feed(std::string_view(stream).substr(second), messages));
      ASSERT_EQ(messages, expected) << "split at " << first << " and " << second;
    }
  }
}

TEST(HostReplyParser, ByteByByteDeliversAMessageOfMaximalLength) {
  std::string payload(0xffff, 'z');
  std::string stream = "OKAY" + framed(payload);
  HostReplyParser parser;
  std::vector<std::string> messages;
  for (char c : stream) ASSERT_TRUE(parser.feed(std::string_view(&c, 1), messages));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].size(), 0xffffu);
}

TEST(HostReplyParser, FailCarriesTheServersReason) {
  HostReplyParser parser;
  std::vector<std::string> messages;
  EXPECT_FALSE(parser.feed("FAIL" + framed("no devices/emulators found"), messages));
  EXPECT_EQ(parser.state(), HostReplyParser::State::Failed);
  EXPECT_EQ(parser.reason(), "no devices/emulators found");
  EXPECT_FALSE(parser.acknowledged());
  EXPECT_TRUE(messages.empty());
  EXPECT_FALSE(parser.feed("OKAY", messages));
}

TEST(HostReplyParser, FailWithAnEmptyReasonEndsAtOnce) {
  HostReplyParser parser;
  std::vector<std::string> messages;
  EXPECT_FALSE(parser.feed("FAIL0000", messages));
  EXPECT_EQ(parser.state(), HostReplyParser::State::Failed);
  EXPECT_EQ(parser.reason(), "");
}

TEST(HostReplyParser, GarbageStatusIsAnErrorNamingTheBytes) {
  HostReplyParser parser;
  std::vector<std::string> messages;
  EXPECT_FALSE(parser.feed(std::string("HTTP/1.1 200\0", 13), messages));
  EXPECT_EQ(parser.state(), HostReplyParser::State::Broken);
  EXPECT_NE(parser.error().find("HTTP"), std::string::npos);
}

TEST(HostReplyParser, BadLengthIsAnErrorAndStopsTheStream) {
  HostReplyParser parser;
  std::vector<std::string> messages;
  EXPECT_FALSE(
      parser.feed("OKAY" + framed("A\tdevice\n") + "zz\x01\x02" + framed("B\tdevice\n"), messages));
  EXPECT_EQ(messages, std::vector<std::string>{"A\tdevice\n"});
  EXPECT_NE(parser.error().find("bad length"), std::string::npos);
  EXPECT_NE(parser.error().find("\\x01"), std::string::npos);
  EXPECT_FALSE(parser.feed(framed("C\tdevice\n"), messages));
  EXPECT_EQ(messages.size(), 1u);
}

TEST(ParseDeviceList, ReadsSerialAndStateLines) {
  auto list = parse_device_list("emulator-5554\tdevice\n0123456789ABCDEF\tunauthorized\n");
  EXPECT_EQ(list.devices, (std::vector<DeviceEntry>{{"emulator-5554", "device", ""},
                                                    {"0123456789ABCDEF", "unauthorized", ""}}));
  EXPECT_EQ(list.malformed_lines, 0u);
}

TEST(ParseDeviceList, EmptyMessageMeansNoDevice) {
  EXPECT_TRUE(parse_device_list("").devices.empty());
  EXPECT_TRUE(parse_device_list("\n\n").devices.empty());
}

TEST(ParseDeviceList, FieldsAfterTheStateGiveTheModelOnly) {
  auto list =
      parse_device_list("R58M\tdevice usb:1-1 product:a model:Pixel device:b\r\nX\toffline");
  EXPECT_EQ(list.devices,
            (std::vector<DeviceEntry>{{"R58M", "device", "Pixel"}, {"X", "offline", ""}}));
}

TEST(ParseDeviceList, ReadsTheLongFormOfTrackDevicesL) {
  // adb 29's "%-22s %s" then the fields, empty ones left out.
  auto list = parse_device_list(
      "198.51.100.2:5555      device product:vp model:Virtual_Phone device:vp transport_id:3\n"
      "emulator-5554          offline transport_id:1\n"
      "0123456789ABCDEFGHIJKLMN device usb:1-1 model:Pixel_7 transport_id:2\n"
      "CCC                    no permissions (user in plugdev group); see [http://x] "
      "usb:1-2 transport_id:4\n");
  EXPECT_EQ(list.devices, (std::vector<DeviceEntry>{
                              {"198.51.100.2:5555", "device", "Virtual_Phone"},
                              {"emulator-5554", "offline", ""},
                              {"0123456789ABCDEFGHIJKLMN", "device", "Pixel_7"},
                              {"CCC", "no", ""},
                          }));
  EXPECT_EQ(list.malformed_lines, 0u);
  EXPECT_EQ(parse_device_list("ALONE\nPADDED      \n").malformed_lines, 2u);
}

TEST(ParseDeviceList, MalformedLinesAreCountedNotFatal) {
  auto list = parse_device_list("no-tab-here\n\tdevice\nA\t\nB\t device\nC\tdevice\n");
  EXPECT_EQ(list.devices, (std::vector<DeviceEntry>{{"C", "device", ""}}));
  EXPECT_EQ(list.malformed_lines, 4u);
}

TEST(DeviceTracker, ReportsReadyDevicesThatAppearAndGo) {
  DeviceTracker tracker;
  auto first = tracker.update(parse_device_list("A\tdevice\nB\tunauthorized\n"));
  EXPECT_EQ(first.appeared, std::vector<std::string>{"A"});
  EXPECT_TRUE(first.gone.empty());
  auto authorized = tracker.update(parse_device_list("A\tdevice\nB\tdevice\n"));
  EXPECT_EQ(authorized.appeared, std::vector<std::string>{"B"});
  auto unplugged = tracker.update(parse_device_list("B\tdevice\n"));
  EXPECT_EQ(unplugged.gone, std::vector<std::string>{"A"});
  EXPECT_TRUE(unplugged.appeared.empty());
  auto back = tracker.update(parse_device_list("B\tdevice\nA\tdevice\n"));
  EXPECT_EQ(back.appeared, std::vector<std::string>{"A"});
  auto offline = tracker.update(parse_device_list("B\toffline\nA\tdevice\n"));
  EXPECT_EQ(offline.gone, std::vector<std::string>{"B"});
}

TEST(DeviceTracker, ResetMakesEveryReadyDeviceNewAgain) {
  DeviceTracker tracker;
  tracker.update(parse_device_list("A\tdevice\n"));
  tracker.reset();
  EXPECT_EQ(tracker.update(parse_device_list("A\tdevice\n")).appeared,
            std::vector<std::string>{"A"});
}

}  // namespace
}  // namespace rtether::adb
