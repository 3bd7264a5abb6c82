// ServiceStatus's status line: what it does, then the relay's clients,
// flows and bytes since start, then the devices adb lists (gone ones not
// counted). Without a service manager (no $NOTIFY_SOCKET here) nothing is
// sent and no timer runs.
#include "cli/service_status.hpp"

#include <gtest/gtest.h>

#include "cli/status_display.hpp"

namespace rtether::cli {
namespace {

using namespace std::chrono_literals;

TEST(ServiceStatus, NamesClientsFlowsBytesAndListedDevices) {
  io::EventLoop loop;
  relay::Relay relay(loop, relay::RelayConfig{});
  DeviceBoard board;
  board.set("AAA", "started (reverse tunnel to tcp:31416)");
  board.set("BBB", DeviceBoard::kGone);
  ServiceStatus service(loop, &relay, &board, "relaying on tcp:31416", 10s);
  EXPECT_EQ(service.status(),
            "relaying on tcp:31416: 0 clients, 0 flows, 0 B down, 0 B up since start; 1 device");
}

TEST(ServiceStatus, WithoutARelayOnlyTheDevices) {
  io::EventLoop loop;
  DeviceBoard board;
  board.set("AAA", "starting");
  board.set("BBB", "unauthorized: accept the USB debugging prompt on the device");
  ServiceStatus service(loop, nullptr, &board, "starting every device adb lists", 10s);
  EXPECT_EQ(service.status(), "starting every device adb lists: 2 devices");
}

TEST(ServiceStatus, WithoutABoardOnlyTheRelay) {
  io::EventLoop loop;
  relay::Relay relay(loop, relay::RelayConfig{});
  ServiceStatus service(loop, &relay, nullptr, "relaying", 0s);
  EXPECT_EQ(service.status(), "relaying: 0 clients, 0 flows, 0 B down, 0 B up since start");
}

}  // namespace
}  // namespace rtether::cli
