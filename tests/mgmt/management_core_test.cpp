// ManagementCore replays the recorded OpenVPN sessions: the UI's lines go
// in, and the daemon's replies must come out byte for byte.
#include "mgmt/management_core.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <map>

#include <fmt/core.h>

#include "mgmt/line_reader.hpp"
#include "mgmt/transcript.hpp"

namespace rtether::mgmt {
namespace {

// The title OpenVPN 2.6.14 reported in the transcripts, so `version` and
// `help`'s first line can be compared as recorded.
constexpr const char* kTitle =
    "OpenVPN 2.6.14 x86_64-pc-linux-gnu [SSL (OpenSSL)] [LZO] [LZ4] [EPOLL] [PKCS11] "
    "[MH/PKTINFO] [AEAD] [DCO]";

struct CoreFixture {
  std::time_t now = 0;
  TrafficTotals totals;
  int network_fd = -1;
  ManagementCore core;

  CoreFixture(long pid, bool hold)
      : core(kTitle, pid, hold,
             {[this] { return now; }, [this] { return totals; },
              [this](bool) { return network_fd; }}) {}

  std::string command(const std::string& line) {
    core.handle_line(line);
    return core.drain_text();
  }
};

// Replays transcript-listen.txt / transcript-client.txt from the greeting
// up to `hold release`: every reply must match what OpenVPN 2.6.14 sent.
void replay_until_hold_release(const std::string& name, long pid, std::time_t start,
                               std::time_t commands, int expected_commands) {
  auto events = testing::read_transcript(name);
  CoreFixture fixture(pid, true);
  fixture.now = start;
  fixture.core.set_state({0, "CONNECTING", "", "", "", "", "", "", ""});
  fixture.core.begin_hold(0);
  fixture.core.on_connect();
  fixture.now = commands;
  std::string expected = events[0].bytes;
  std::string got = fixture.core.drain_text();
  EXPECT_EQ(got, expected);
  // When the recorded daemon logged each command ("T,D,MANAGEMENT: CMD 'X'").
  std::map<std::string, std::time_t> command_times;
  for (const auto& event : events) {
    for (const auto& line : testing::crlf_lines(event.bytes)) {
      auto at = line.find(",D,MANAGEMENT: CMD '");
      if (at == std::string::npos || line[0] == '>') continue;
      std::string command = line.substr(at + 20, line.size() - at - 21);
      command_times.emplace(command, std::stol(line.substr(0, at)));
    }
  }
  std::size_t i = 1;
  int replayed = 0;
  while (i < events.size()) {
    ASSERT_FALSE(events[i].from_daemon) << name << " event " << i;
    std::string line = events[i].bytes.substr(0, events[i].bytes.size() - 1);
    std::string reply;
    for (++i; i < events.size() && events[i].from_daemon; ++i) reply += events[i].bytes;
    // Log lines carry the second they were written; follow the recording.
    if (auto it = command_times.find(line); it != command_times.end()) fixture.now = it->second;
    // network-change exists only in OpenVPN's Android build (2.6.14 on
    // Linux calls it unknown); rtether always has it (see the test below).
    if (line == "network-change") {
      fixture.command(line);
      continue;
    }
    EXPECT_EQ(fixture.command(line), reply) << name << ": " << line;
    ++replayed;
    if (line == "hold release") break;
  }
  EXPECT_EQ(replayed, expected_commands);
  EXPECT_TRUE(fixture.core.take_hold_release());
  EXPECT_FALSE(fixture.core.in_hold());
}

TEST(ManagementCoreTranscript, ListenSessionUntilHoldReleaseMatches) {
  replay_until_hold_release("transcript-listen.txt", 8657, 1795486383, 1795486387, 15);
}

TEST(ManagementCoreTranscript, ClientSessionUntilHoldReleaseMatches) {
  replay_until_hold_release("transcript-client.txt", 8816, 1795486420, 1795486424, 14);
}

// Drives the android transcripts' NEED-OK exchanges: each NEED-OK line the
// daemon sent is asked again through the core, the UI's answer is fed in,
// and the reply must be the one recorded.
TEST(ManagementCoreTranscript, AndroidNeedOkExchangesMatch) {
  for (const char* name : {"transcript-android-basic.txt", "transcript-android-persist.txt",
                           "transcript-android-netchange.txt", "transcript-android-tcp.txt",
                           "transcript-android-pull.txt", "transcript-android-cancel.txt"}) {
    CoreFixture fixture(1, false);
    fixture.core.on_connect();
    fixture.core.drain_text();
    int answered = 0;
    std::string pending_type;
    for (const auto& event : testing::read_transcript(name)) {
      if (event.from_daemon) {
        for (const auto& line : testing::crlf_lines(event.bytes)) {
          auto realtime = parse_realtime(line);
          if (!realtime || realtime->type != "NEED-OK") continue;
          auto request = parse_need_ok(realtime->body);
          ASSERT_TRUE(request);
          fixture.core.begin_need_ok(request->type, request->payload, event.with_fd ? 7 : -1);
          auto& output = fixture.core.output();
          ASSERT_EQ(output.size(), 1u);
          EXPECT_EQ(output.front().text, line + "\r\n");
          EXPECT_EQ(output.front().fd, event.with_fd ? 7 : -1);
          output.clear();
          pending_type = request->type;
        }
        continue;
      }
      LineReader reader;
      for (const auto& line : reader.feed(event.bytes)) {
        if (line.rfind("needok ", 0) != 0) continue;
        auto reply = fixture.command(line);
        EXPECT_EQ(reply, need_ok_success(pending_type) + "\r\n") << name << ": " << line;
        auto answer = fixture.core.take_need_ok_answer();
        ASSERT_TRUE(answer);
        EXPECT_EQ(answer->type, pending_type);
        ++answered;
      }
    }
    EXPECT_GE(answered, 9) << name;
  }
}

TEST(ManagementCore, NeedOkErrorsUseOpenVpnTexts) {
  CoreFixture fixture(1, false);
  fixture.core.on_connect();
  fixture.core.drain_text();
  EXPECT_EQ(fixture.command("needok 'IFCONFIG' ok"),
            "ERROR: no needok-confirmation is currently needed at this time\r\n");
  fixture.core.begin_need_ok("IFCONFIG", "10.0.0.2 255.255.255.255 1500 subnet");
  fixture.core.drain_text();
  EXPECT_EQ(fixture.command("needok ROUTE ok"),
            "ERROR: needok-confirmation of type 'ROUTE' entered, but we need one of type "
            "'IFCONFIG'\r\n");
  EXPECT_EQ(fixture.command("needok IFCONFIG"),
            "ERROR: the 'needok' command requires 2 parameters\r\n");
  EXPECT_FALSE(fixture.core.take_need_ok_answer());
  EXPECT_TRUE(fixture.core.need_ok_pending());
  EXPECT_EQ(fixture.command("needok IFCONFIG cancel"),
            "SUCCESS: 'IFCONFIG' needok-confirmation entered, but not yet verified\r\n");
  auto answer = fixture.core.take_need_ok_answer();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->action, "cancel");
}

TEST(ManagementCore, BadParametersUseOpenVpnTexts) {
  CoreFixture fixture(1, false);
  fixture.core.on_connect();
  fixture.core.drain_text();
  EXPECT_EQ(fixture.command("state bogus"),
            "ERROR: state parameter must be 'on' or 'off' or some number n or 'all'\r\n");
  EXPECT_EQ(fixture.command("log 0"),
            "ERROR: log parameter must be 'on' or 'off' or some number n or 'all'\r\n");
  EXPECT_EQ(fixture.command("hold maybe"), "ERROR: bad hold command parameter\r\n");
  EXPECT_EQ(fixture.command("signal"), "ERROR: the 'signal' command requires 1 parameter\r\n");
  EXPECT_EQ(fixture.command("needok \"x"),
            "ERROR: Options error: No closing quotation (\") in TCP:0\r\n");
  EXPECT_EQ(fixture.command("frobnicate now"),
            "ERROR: unknown command, enter 'help' for more options\r\n");
  EXPECT_EQ(fixture.command(""), "");
}

TEST(ManagementCore, PendingQueryIsShownAgainToANewUi) {
  CoreFixture fixture(1, true);
  fixture.core.begin_need_ok("PROTECTFD", "protect_fd_nonlocal", 9);
  fixture.core.on_connect();
  auto& output = fixture.core.output();
  ASSERT_EQ(output.size(), 2u);
  EXPECT_EQ(output[0].text, info_greeting() + "\r\n");
  EXPECT_EQ(output[1].text, ">NEED-OK:Need 'PROTECTFD' confirmation MSG:protect_fd_nonlocal\r\n");
  EXPECT_EQ(output[1].fd, 9);
  fixture.core.on_disconnect();
  fixture.core.cancel_query();
  fixture.core.begin_hold(2);
  fixture.core.on_connect();
  EXPECT_EQ(fixture.core.drain_text(), info_greeting() + "\r\n>HOLD:Waiting for hold release:2\r\n");
}

TEST(ManagementCore, SignalsAreRecordedAndIgnoredInHold) {
  CoreFixture fixture(1, true);
  fixture.core.on_connect();
  fixture.core.begin_hold(2);
  fixture.core.drain_text();
  EXPECT_EQ(fixture.command("signal SIGHUP"),
            "ERROR: signal 'SIGHUP' is currently ignored\r\n>HOLD:Waiting for hold release:2\r\n");
  EXPECT_FALSE(fixture.core.take_signal());
  EXPECT_EQ(fixture.command("signal SIGINT"), "SUCCESS: signal SIGINT thrown\r\n");
  EXPECT_EQ(fixture.core.take_signal(), Signal::Int);
  fixture.core.take_hold_release();
  EXPECT_EQ(fixture.command("hold release"), "SUCCESS: hold release succeeded\r\n");
  EXPECT_EQ(fixture.command("signal SIGUSR1"), "SUCCESS: signal SIGUSR1 thrown\r\n");
  EXPECT_EQ(fixture.command("signal SIGTERM"), "SUCCESS: signal SIGTERM thrown\r\n");
  EXPECT_EQ(fixture.core.take_signal(), Signal::Term);  // the stop wins
}

TEST(ManagementCore, NetworkChangeReprotectsOrRestarts) {
  CoreFixture fixture(1, false);
  fixture.core.on_connect();
  fixture.core.drain_text();
  fixture.network_fd = 5;
  fixture.core.handle_line("network-change samenetwork");
  auto& output = fixture.core.output();
  ASSERT_EQ(output.size(), 1u);
  EXPECT_EQ(output[0].text, "PROTECTFD: fd '5' sent to be protected\r\n");
  EXPECT_EQ(output[0].fd, 5);
  output.clear();
  fixture.network_fd = -2;
  EXPECT_EQ(fixture.command("network-change"),
            "PROTECTFD: fd '-2' sent to be protected\r\nSUCCESS: signal SIGUSR1 thrown\r\n");
  EXPECT_EQ(fixture.core.take_signal(), Signal::Usr1);
  fixture.network_fd = -1;
  EXPECT_EQ(fixture.command("network-change"), "PROTECTFD: fd '-1' sent to be protected\r\n");
  EXPECT_FALSE(fixture.core.take_signal());
}

TEST(ManagementCore, HistoriesRealtimeAndBytecount) {
  CoreFixture fixture(1, false);
  fixture.now = 100;
  fixture.core.on_connect();
  fixture.core.drain_text();
  fixture.core.set_state({0, "CONNECTING", "", "", "", "", "", "", ""});
  EXPECT_EQ(fixture.core.drain_text(), "");  // real-time state is off by default
  EXPECT_EQ(fixture.command("state on"), "SUCCESS: real-time state notification set to ON\r\n");
  fixture.core.set_state({0, "CONNECTED", "SUCCESS", "10.0.0.2", "127.0.0.1", "31416", "", "",
                          "fd00::2"});
  EXPECT_EQ(fixture.core.drain_text(),
            ">STATE:100,CONNECTED,SUCCESS,10.0.0.2,127.0.0.1,31416,,,fd00::2\r\n");
  EXPECT_EQ(fixture.command("state 1"),
            "100,CONNECTED,SUCCESS,10.0.0.2,127.0.0.1,31416,,,fd00::2\r\nEND\r\n");
  EXPECT_EQ(fixture.command("state off all"),
            "SUCCESS: real-time state notification set to OFF\r\n100,CONNECTING,,,,,,\r\n"
            "100,CONNECTED,SUCCESS,10.0.0.2,127.0.0.1,31416,,,fd00::2\r\nEND\r\n");
  EXPECT_EQ(fixture.command("log on"), "SUCCESS: real-time log notification set to ON\r\n");
  EXPECT_EQ(fixture.command("echo on"),
            ">LOG:100,D,MANAGEMENT: CMD 'echo on'\r\nSUCCESS: real-time echo notification set to "
            "ON\r\n");
  fixture.command("log off");
  fixture.totals = {1234, 567, 500, 1200};
  EXPECT_EQ(fixture.command("bytecount 2"), "SUCCESS: bytecount interval changed\r\n");
  EXPECT_EQ(fixture.core.bytecount_interval(), 2);
  fixture.core.emit_bytecount();
  EXPECT_EQ(fixture.core.drain_text(), ">BYTECOUNT:1234,567\r\n");
  auto status = fixture.command("status");
  EXPECT_EQ(status.substr(0, 20), "OpenVPN STATISTICS\r\n");
  EXPECT_NE(status.find("\r\nTUN/TAP read bytes,500\r\nTUN/TAP write bytes,1200\r\n"
                        "TCP/UDP read bytes,1234\r\nTCP/UDP write bytes,567\r\n"
                        "Auth read bytes,1234\r\nEND\r\n"),
            std::string::npos);
  fixture.core.on_disconnect();
  fixture.core.on_connect();
  EXPECT_EQ(fixture.core.bytecount_interval(), 0);  // per connection, as OpenVPN
}

// transcript-listen.txt: OpenVPN 2.6.14 as a client answers `status 3`
// with the layout of `status` (init.c management_callback_status_p2p).
TEST(ManagementCore, StatusHasTheClientLayoutWhateverItsNumber) {
  CoreFixture fixture(1, false);
  fixture.core.on_connect();
  fixture.core.drain_text();
  fixture.totals = {3105, 3037, 0, 0};
  auto layout = [](std::string text) {
    auto updated = text.find("Updated,");
    return text.substr(0, updated + 8) + text.substr(text.find("\r\n", updated));
  };
  std::string recorded;
  for (const auto& event : testing::read_transcript("transcript-listen.txt")) {
    if (event.from_daemon && event.bytes.rfind("OpenVPN STATISTICS", 0) == 0) {
      recorded = event.bytes;
      break;
    }
  }
  ASSERT_FALSE(recorded.empty());
  // The recorded daemon's "Auth read bytes" counted its TLS bytes apart.
  recorded.replace(recorded.find("Auth read bytes,80"), 18, "Auth read bytes,3105");
  for (const char* command : {"status", "status 1", "status 2", "status 3"}) {
    EXPECT_EQ(layout(fixture.command(command)), layout(recorded)) << command;
  }
}

TEST(ManagementCore, LoadStatsReportsTheLinkBytesAndIsNotLogged) {
  CoreFixture fixture(1, false);
  fixture.core.on_connect();
  fixture.core.drain_text();
  fixture.totals = {1234, 567, 500, 1200};
  EXPECT_EQ(fixture.command("load-stats"), "SUCCESS: nclients=0,bytesin=1234,bytesout=567\r\n");
  EXPECT_EQ(fixture.command("log all"), "0,D,MANAGEMENT: CMD 'log all'\r\nEND\r\n");
}

TEST(ManagementCore, LogAndEchoNeedAParameterAndTakeTwo) {
  CoreFixture fixture(1, false);
  fixture.now = 7;
  fixture.core.on_connect();
  fixture.core.drain_text();
  EXPECT_EQ(fixture.command("log"), "ERROR: the 'log' command requires at least 1 parameter\r\n");
  EXPECT_EQ(fixture.command("echo"),
            "ERROR: the 'echo' command requires at least 1 parameter\r\n");
  EXPECT_EQ(fixture.command("log on all"),
            "SUCCESS: real-time log notification set to ON\r\n7,D,MANAGEMENT: CMD 'log'\r\n"
            "7,D,MANAGEMENT: CMD 'echo'\r\n7,D,MANAGEMENT: CMD 'log on all'\r\nEND\r\n");
  EXPECT_EQ(fixture.command("echo on all"),
            ">LOG:7,D,MANAGEMENT: CMD 'echo on all'\r\nSUCCESS: real-time echo notification set "
            "to ON\r\nEND\r\n");
  fixture.core.log("I", "Initialization Sequence Completed");
  EXPECT_EQ(fixture.core.drain_text(), ">LOG:7,I,Initialization Sequence Completed\r\n");
}

TEST(ManagementCore, VerbShowsSetsAndFiltersTheLog) {
  CoreFixture fixture(1, false);
  fixture.now = 9;
  fixture.core.on_connect();
  fixture.core.drain_text();
  EXPECT_EQ(fixture.command("verb"), "SUCCESS: verb=3\r\n");
  EXPECT_EQ(fixture.command("verb 16"), "ERROR: verb level is out of range\r\n");
  EXPECT_EQ(fixture.command("verb -1"), "ERROR: verb level is out of range\r\n");
  EXPECT_EQ(fixture.command("verb 1"), "SUCCESS: verb level changed\r\n");
  EXPECT_EQ(fixture.command("verb"), "SUCCESS: verb=1\r\n");
  fixture.command("log on");
  // Command lines (D, level 3) are no longer logged; warnings still are.
  EXPECT_EQ(fixture.command("pid"), "SUCCESS: pid=1\r\n");
  fixture.core.log("W", "relay session ended: closed");
  EXPECT_EQ(fixture.core.drain_text(), ">LOG:9,W,relay session ended: closed\r\n");
  fixture.command("verb 0");
  fixture.core.log("W", "relay session ended: closed");
  fixture.core.fatal("ERROR: Cannot open TUN");
  EXPECT_EQ(fixture.core.drain_text(),
            ">LOG:9,F,ERROR: Cannot open TUN\r\n>FATAL:ERROR: Cannot open TUN\r\n");
}

TEST(ManagementCore, MuteKeepsNLinesInARowOfOneCategory) {
  CoreFixture fixture(1, false);
  fixture.now = 5;
  fixture.core.on_connect();
  fixture.core.drain_text();
  EXPECT_EQ(fixture.command("mute"), "SUCCESS: mute=0\r\n");
  EXPECT_EQ(fixture.command("mute -2"), "ERROR: mute level is out of range\r\n");
  fixture.command("verb 1");
  EXPECT_EQ(fixture.command("mute 2"), "SUCCESS: mute level changed\r\n");
  EXPECT_EQ(fixture.command("mute"), "SUCCESS: mute=2\r\n");
  fixture.command("log on");
  for (int i = 1; i <= 4; ++i) {
    fixture.core.log("W", fmt::format("cannot reach relay at 127.0.0.1:{}: refused", i));
  }
  fixture.core.log("I", "Initialization Sequence Completed");
  EXPECT_EQ(fixture.core.drain_text(),
            ">LOG:5,W,cannot reach relay at 127.0.0.1:1: refused\r\n"
            ">LOG:5,W,cannot reach relay at 127.0.0.1:2: refused\r\n"
            ">LOG:5,I,NOTE: --mute triggered...\r\n"
            ">LOG:5,I,2 variation(s) on previous 2 message(s) suppressed by --mute\r\n"
            ">LOG:5,I,Initialization Sequence Completed\r\n");
}

TEST(ManagementCore, NetworkChangeIsUnknownWithoutTheAndroidHook) {
  ManagementCore core("t", 1, false, {});
  core.on_connect();
  core.drain_text();
  core.handle_line("network-change");
  EXPECT_EQ(core.drain_text(), "ERROR: unknown command, enter 'help' for more options\r\n");
}

// manage.c: the bare prompt; nothing else until the password matches (the
// pending hold included); a wrong one gets the prompt again; the third
// closes the connection without a prompt.
TEST(ManagementCorePassword, PromptsHoldsOutputAndGreetsOnSuccess) {
  CoreFixture fixture(1, true);
  fixture.now = 3;
  fixture.core.require_password("s3cret word");
  fixture.core.begin_hold(0);
  fixture.core.on_connect();
  EXPECT_EQ(fixture.core.drain_text(), "ENTER PASSWORD:");
  EXPECT_TRUE(fixture.core.password_needed());
  fixture.core.handle_line("state all");
  fixture.core.end_of_read();
  EXPECT_EQ(fixture.core.drain_text(), "ENTER PASSWORD:");
  fixture.core.set_state({0, "CONNECTING", "", "", "", "", "", "", ""});
  fixture.core.fatal("x");
  EXPECT_EQ(fixture.core.drain_text(), "");
  fixture.core.handle_line("s3cret word");
  fixture.core.handle_line("hold release");
  fixture.core.end_of_read();
  EXPECT_EQ(fixture.core.drain_text(),
            "SUCCESS: password is correct\r\n" + info_greeting() +
                "\r\n>HOLD:Waiting for hold release:0\r\nSUCCESS: hold release succeeded\r\n");
  EXPECT_TRUE(fixture.core.take_hold_release());
  EXPECT_FALSE(fixture.core.take_close_request());
  // Each connection asks again.
  fixture.core.on_disconnect();
  fixture.core.on_connect();
  EXPECT_EQ(fixture.core.drain_text(), "ENTER PASSWORD:");
}

TEST(ManagementCorePassword, ThirdWrongPasswordClosesTheConnection) {
  CoreFixture fixture(1, false);
  fixture.now = 4;
  fixture.core.require_password("right");
  fixture.core.on_connect();
  fixture.core.drain_text();
  for (const char* wrong : {"wrong", "right "}) {
    fixture.core.handle_line(wrong);
    fixture.core.end_of_read();
    EXPECT_EQ(fixture.core.drain_text(), "ENTER PASSWORD:");
    EXPECT_FALSE(fixture.core.take_close_request());
  }
  fixture.core.handle_line("");
  fixture.core.end_of_read();
  EXPECT_EQ(fixture.core.drain_text(), "");
  EXPECT_TRUE(fixture.core.take_close_request());
  fixture.core.on_disconnect();
  fixture.core.on_connect();
  fixture.core.handle_line("right");
  fixture.core.drain_text();
  EXPECT_EQ(fixture.command("log 2"),
            "4,W,MAN: client connection rejected after 3 failed password attempts\r\n"
            "4,D,MANAGEMENT: CMD 'log 2'\r\nEND\r\n");
}

// manage.c man_read stops at `halt`: lines after the last failed try, in
// the same read, are not run (neither the right password nor a command).
TEST(ManagementCorePassword, LinesAfterTheThirdWrongPasswordAreIgnored) {
  CoreFixture fixture(1, false);
  fixture.core.require_password("right");
  fixture.core.on_connect();
  fixture.core.drain_text();
  for (const char* line : {"wrong", "wrong", "wrong", "right", "signal SIGTERM"}) {
    fixture.core.handle_line(line);
  }
  fixture.core.end_of_read();
  EXPECT_EQ(fixture.core.drain_text(), "");
  EXPECT_TRUE(fixture.core.password_needed());
  EXPECT_FALSE(fixture.core.take_signal());
  EXPECT_TRUE(fixture.core.take_close_request());
}

TEST(ManagementCore, ExitClosesOnlyTheSession) {
  CoreFixture fixture(1, false);
  fixture.core.on_connect();
  fixture.core.drain_text();
  EXPECT_EQ(fixture.command("quit"), "");
  EXPECT_TRUE(fixture.core.take_close_request());
  EXPECT_FALSE(fixture.core.take_signal());
  EXPECT_EQ(fixture.command("version"),
            std::string("OpenVPN Version: ") + kTitle + "\r\nManagement Version: 5\r\nEND\r\n");
  EXPECT_EQ(fixture.command("version 3"), "");
  EXPECT_EQ(fixture.command("pid"), "SUCCESS: pid=1\r\n");
  auto help = fixture.command("help");
  EXPECT_EQ(help.substr(0, help.find("\r\n")), std::string("Management Interface for ") + kTitle);
  EXPECT_EQ(help.substr(help.size() - 5), "END\r\n");
}

TEST(ManagementCore, ReceivedDescriptorGoesWithTheNeedOkAnswer) {
  CoreFixture fixture(1, false);
  fixture.core.on_connect();
  fixture.core.begin_need_ok("OPENTUN", "tun");
  fixture.core.drain_text();
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  close(pipe_fds[1]);
  fixture.core.add_received_fd(io::Fd(pipe_fds[0]));
  fixture.command("needok 'OPENTUN' ok");
  auto answer = fixture.core.take_need_ok_answer();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->fd.get(), pipe_fds[0]);
}

}  // namespace
}  // namespace rtether::mgmt

namespace rtether::mgmt {
namespace {

TEST(ManagementCoreDescriptors, QueuedOutputForgetsAClosedDescriptor) {
  ManagementCore core("t", 1, false, {});
  core.on_connect();
  core.output().clear();
  core.begin_need_ok("PROTECTFD", "protect_fd_nonlocal", 6);
  ASSERT_EQ(core.output().back().fd, 6);
  core.forget_descriptor(6);
  EXPECT_EQ(core.output().back().fd, -1);
  core.begin_need_ok("PROTECTFD", "protect_fd_nonlocal", 7);
  core.cancel_query();
  for (const auto& chunk : core.output()) EXPECT_EQ(chunk.fd, -1);
}

}  // namespace
}  // namespace rtether::mgmt
