// The daemon's session loop against fake ports: the NEED-OK sequence in the
// order the recorded OpenVPN sessions show (tests/mgmt/data), the hold, the
// PROTECTFD decision as the daemon applies it, and what every restart
// reason leads to (state detail, back-off, exit).
#include "daemon/daemon.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "fake_ports.hpp"

namespace rtether::daemon {
namespace {

using testing::CallLog;
using testing::FakeForwarding;
using testing::FakeManagement;
using Reason = device::SessionEnd::Reason;
using namespace std::chrono_literals;

std::optional<wire::IpAddress> address(const char* text) {
  std::string error;
  return wire::parse_address(text, error);
}

device::RelayAddress tcp_relay() {
  return {device::RelayAddress::Kind::Tcp, "192.0.2.1", 31416, ""};
}

TunPlan plan(bool ipv6, const char* routes = "0.0.0.0/0", const char* dns = "8.8.8.8",
             std::string domain = {}) {
  std::string error;
  return TunPlan::make(65520, ipv6, *wire::parse_prefix_list(routes, error),
                       *wire::parse_address_list(dns, error), std::move(domain));
}

class DaemonTest : public ::testing::Test {
 protected:
  int run(TunPlan tun_plan, device::RelayAddress relay = tcp_relay()) {
    return Daemon(std::move(relay), std::move(tun_plan), management, forwarding).run();
  }
  std::vector<std::string> need_ok_types() const {
    std::vector<std::string> types;
    for (const auto& line : log.with_prefix("needok "))
      types.push_back(line.substr(0, line.find(' ')));
    return types;
  }
  std::vector<std::string> states() const { return log.with_prefix("state "); }

  CallLog log;
  FakeManagement management{log};
  FakeForwarding forwarding{log, management};
};

TEST_F(DaemonTest, AsksForEveryTunItemInTheRecordedOrderThenConnects) {
  forwarding.attempts.push_back({{address("192.0.2.1")}, true});
  forwarding.sessions.push_back({1s, Reason::Cancelled, mgmt::Signal::Term});
  EXPECT_EQ(
      run(plan(true, "192.0.2.0/24,2001:db8::/32", "192.0.2.53,2001:db8::53", "example.test")), 0);
  EXPECT_EQ(need_ok_types(),
            (std::vector<std::string>{"IFCONFIG", "IFCONFIG6", "ROUTE", "ROUTE6", "DNS6SERVER",
                                      "DNSSERVER", "DNSDOMAIN", "PERSIST_TUN_ACTION", "OPENTUN",
                                      "PROTECTFD"}));
  EXPECT_EQ(states(),
            (std::vector<std::string>{"CONNECTING", "ASSIGN_IP", "ADD_ROUTES", "TCP_CONNECT",
                                      "WAIT", "CONNECTED,SUCCESS", "EXITING,SIGTERM"}));
  const auto& connected = management.states[5];
  EXPECT_EQ(connected.tun_ipv4, "10.0.0.2");
  EXPECT_EQ(connected.tun_ipv6, "fd00::2");
  EXPECT_EQ(forwarding.tun_ipv6, true) << "IPv6 packets go to the relay";
  EXPECT_EQ(connected.remote_address, "192.0.2.1");
  EXPECT_EQ(connected.local_port, "40000");
  // The tun is in use before the relay is reached, ready only once connected.
  auto& lines = log.lines;
  auto at = [&](const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) - lines.begin();
  };
  EXPECT_LT(at("use tun"), at("connect"));
  EXPECT_LT(at("state CONNECTED,SUCCESS"), at("ready rtether0"));
  EXPECT_LT(at("ready rtether0"), at("forward"));
  EXPECT_EQ(at("log I Initialization Sequence Completed") + 1, at("ready rtether0"));
}

TEST_F(DaemonTest, CancelledItemIsLoggedAndSkipped) {
  management.actions["ROUTE"] = {"cancel"};
  forwarding.attempts.push_back({{std::nullopt}, true});
  run(plan(false, "192.0.2.0/24"));
  EXPECT_EQ(log.with_prefix("log W "),
            std::vector<std::string>{
                "ROUTE '192.0.2.0 255.255.255.0 10.0.0.1 dev vpnservice-tun' not confirmed "
                "(cancel): skipped"});
  EXPECT_GE(forwarding.tun_fd, 0);
}

TEST_F(DaemonTest, HoldIsReleasedBeforeTheFirstNeedOk) {
  management.hold = true;
  forwarding.attempts.push_back({{std::nullopt}, true});
  run(plan(false));
  ASSERT_GE(log.lines.size(), 3u);
  EXPECT_EQ(log.lines[0], "state CONNECTING");
  EXPECT_EQ(log.lines[1], "hold 0");
  EXPECT_EQ(log.lines[2], "state ASSIGN_IP");
}

TEST_F(DaemonTest, StopSignalInHoldExitsWithoutAskingAnything) {
  management.hold = true;
  management.interruptions.push_back({"hold", 1, mgmt::Signal::Int});
  EXPECT_EQ(run(plan(false)), 0);
  EXPECT_TRUE(need_ok_types().empty());
  EXPECT_EQ(states(), (std::vector<std::string>{"CONNECTING", "EXITING,SIGINT"}));
}

TEST_F(DaemonTest, HoldShowsTheBackOffAsItsWaitAfterEveryFailure) {
  management.hold = true;
  for (int i = 0; i < 4; ++i) forwarding.attempts.push_back({{std::nullopt}, false});
  run(plan(false));
  EXPECT_EQ(log.with_prefix("hold "), (std::vector<std::string>{"0", "0", "1", "2", "4"}));
  EXPECT_TRUE(log.with_prefix("sleep ").empty());
}

TEST_F(DaemonTest, ConnectFailedIsRetriedAtOnceThenAfterOneSecondDoublingToFive) {
  for (int i = 0; i < 6; ++i) forwarding.attempts.push_back({{std::nullopt}, false});
  run(plan(false));
  EXPECT_EQ(log.with_prefix("sleep "),
            (std::vector<std::string>{"1000", "2000", "4000", "5000", "5000"}));
  auto reconnecting = log.with_prefix("state RECONNECTING,");
  EXPECT_EQ(reconnecting, std::vector<std::string>(6, "connection-failed"));
  EXPECT_EQ(log.with_prefix("log W cannot reach relay at ").front(),
            "192.0.2.1:31416: Connection refused");
}

TEST_F(DaemonTest, RelayGoneAfterAHealthySessionIsRetriedAtOnceButAQuickOneBacksOff) {
  for (int i = 0; i < 4; ++i) forwarding.attempts.push_back({{std::nullopt}, true});
  forwarding.sessions.push_back({10s, Reason::RelayClosed, {}});
  forwarding.sessions.push_back({100ms, Reason::StreamError, {}});
  forwarding.sessions.push_back({100ms, Reason::RelayClosed, {}});
  run(plan(false));
  EXPECT_EQ(log.with_prefix("state RECONNECTING,"),
            std::vector<std::string>(3, "connection-reset"));
  EXPECT_EQ(log.with_prefix("sleep "), (std::vector<std::string>{"1000", "2000"}));
  EXPECT_EQ(log.with_prefix("log W relay session ended: ").size(), 3u);
}

TEST_F(DaemonTest, SignalRestartsAtOnceUnderItsNameAndResetsTheBackOff) {
  forwarding.attempts.push_back({{std::nullopt}, false});
  forwarding.attempts.push_back({{std::nullopt}, false});
  forwarding.attempts.push_back({{std::nullopt}, true});
  forwarding.attempts.push_back({{std::nullopt}, false});
  forwarding.sessions.push_back({1s, Reason::Cancelled, mgmt::Signal::Hup});
  // The fourth attempt's IFCONFIG is interrupted by SIGUSR1 (ics-openvpn's
  // pause): no back-off wait follows a restart asked for.
  management.interruptions.push_back({"needok IFCONFIG ", 4, mgmt::Signal::Usr1});
  run(plan(false));
  EXPECT_EQ(log.with_prefix("state RECONNECTING,"),
            (std::vector<std::string>{"connection-failed", "connection-failed", "SIGHUP", "SIGUSR1",
                                      "connection-failed"}));
  // 1 s after the second failure; after the signals the sequence starts over.
  EXPECT_EQ(log.with_prefix("sleep "), (std::vector<std::string>{"1000"}));
}

TEST_F(DaemonTest, NoActionKeepsTheTunAcrossARestart) {
  forwarding.attempts.push_back({{std::nullopt}, true});
  forwarding.attempts.push_back({{std::nullopt}, true});
  forwarding.sessions.push_back({10s, Reason::RelayClosed, {}});
  management.actions["PERSIST_TUN_ACTION"] = {"OPEN_BEFORE_CLOSE", "NOACTION"};
  run(plan(false));
  EXPECT_EQ(log.with_prefix("needok OPENTUN").size(), 1u);
  EXPECT_EQ(log.with_prefix("use tun").size(), 1u);
  EXPECT_EQ(log.with_prefix("forward").size(), 2u);
}

TEST_F(DaemonTest, NoActionWithoutATunIsFatal) {
  management.actions["PERSIST_TUN_ACTION"] = {"NOACTION"};
  EXPECT_EQ(run(plan(false)), 1);
  EXPECT_EQ(log.with_prefix("fatal "), std::vector<std::string>{"ERROR: Cannot open TUN"});
  EXPECT_EQ(states().back(), "EXITING,tun-error");
  EXPECT_EQ(log.lines.back(), "flush");
}

TEST_F(DaemonTest, UnknownPersistActionIsFatal) {
  management.actions["PERSIST_TUN_ACTION"] = {"CLOSE_AND_REOPEN"};
  EXPECT_EQ(run(plan(false)), 1);
  EXPECT_EQ(log.with_prefix("fatal "),
            std::vector<std::string>{"Unknown persist tun action CLOSE_AND_REOPEN"});
}

TEST_F(DaemonTest, OpenTunRefusedOrNotATunIsFatal) {
  management.actions["OPENTUN"] = {"cancel"};
  EXPECT_EQ(run(plan(false)), 1);
  EXPECT_EQ(log.with_prefix("log F "), std::vector<std::string>{"OPENTUN cancelled by the UI"});

  CallLog other_log;
  FakeManagement other{other_log};
  FakeForwarding other_forwarding{other_log, other};
  other_forwarding.not_a_tun = true;
  EXPECT_EQ(Daemon(tcp_relay(), plan(false), other, other_forwarding).run(), 1);
  EXPECT_EQ(other_log.with_prefix("log F "),
            std::vector<std::string>{"OPENTUN descriptor is not a tun"});
  EXPECT_EQ(other_forwarding.tun_fd, -1);
}

TEST_F(DaemonTest, ProtectFdGoesOnlyWithATcpSocketLeavingTheHost) {
  forwarding.attempts.push_back({{address("127.0.0.1")}, true});
  forwarding.attempts.push_back({{std::nullopt}, true});
  forwarding.attempts.push_back({{address("::1"), address("192.0.2.1")}, true});
  for (int i = 0; i < 3; ++i) forwarding.sessions.push_back({10s, Reason::RelayClosed, {}});
  run(plan(false));
  auto protects = log.with_prefix("needok PROTECTFD ");
  ASSERT_EQ(protects.size(), 1u);
  EXPECT_EQ(protects[0], "protect_fd_nonlocal fd=" + std::to_string(forwarding.sockets.back()));
  // network-change re-protects only the link that was protected.
  EXPECT_EQ(log.with_prefix("link "),
            (std::vector<std::string>{"unprotected", "none", "unprotected", "none", "protected",
                                      "none"}));
}

TEST_F(DaemonTest, SignalWhileProtectFdWaitsRestartsBeforeTheRelayIsReached) {
  forwarding.attempts.push_back({{address("192.0.2.1")}, true});
  management.interruptions.push_back({"needok PROTECTFD", 1, mgmt::Signal::Usr1});
  run(plan(false));
  auto all = states();
  EXPECT_EQ(std::count(all.begin(), all.end(), "WAIT"), 0);
  EXPECT_EQ(log.with_prefix("state RECONNECTING,"), std::vector<std::string>{"SIGUSR1"});
}

TEST_F(DaemonTest, UnixRelayIsShownByItsPath) {
  forwarding.attempts.push_back({{std::nullopt}, true});
  run(plan(false), {device::RelayAddress::Kind::Unix, "", 0, "@gnirehtet"});
  ASSERT_GE(management.states.size(), 6u);
  EXPECT_EQ(management.states[5].name, "CONNECTED");
  EXPECT_EQ(management.states[5].remote_address, "unix:@gnirehtet");
  EXPECT_EQ(management.states[5].remote_port, "");
  EXPECT_EQ(management.states[5].tun_ipv6, "");
  EXPECT_EQ(forwarding.tun_ipv6, false) << "without IPv6 only IPv4 goes to the relay";
}

}  // namespace
}  // namespace rtether::daemon
