// What `relay`, `autostart` and `autorun` tell a service manager (systemd,
// Type=notify; io/service_manager.hpp): READY=1 with what they do once
// constructed (every listener open, adb watched), then every `interval` a
// STATUS= line with the relay's clients, flows and bytes each way and the
// devices adb lists, and STOPPING=1 when a signal ends them. Without a
// service manager only the two one-off datagrams are attempted (and not
// sent); no timer runs.
#pragma once

#include <chrono>
#include <string>

#include "io/event_loop.hpp"
#include "relay/relay.hpp"

namespace rtether::cli {

class DeviceBoard;

class ServiceStatus {
 public:
  // `relay` and `board` may be null (autostart has no relay, relay no
  // board); an `interval` of zero sends no periodic line.
  ServiceStatus(io::EventLoop& loop, const relay::Relay* relay, const DeviceBoard* board,
                std::string doing, std::chrono::seconds interval);

  // "relaying on ...: 2 clients, 14 flows, 1.5 MB down, 30.0 kB up; 2 devices"
  std::string status() const;
  void stopping(const std::string& why);

 private:
  void tick();

  io::EventLoop& loop_;
  const relay::Relay* relay_;
  const DeviceBoard* board_;
  std::string doing_;
  std::chrono::seconds interval_;
  io::Timer timer_;
};

}  // namespace rtether::cli
