// DeviceWatcher: follows the devices adb sees, through the adb server's
// `host:track-devices` stream (host_protocol.hpp), on the caller's event
// loop. Each ready device that appears is reported once; one that goes away
// (unplugged, offline, unauthorized) is reported gone, and reported again
// when it comes back. When the server cannot be reached, or drops the
// stream, `server_unreachable` is called (the caller runs `adb
// start-server`) and the watcher retries with a growing delay; after a
// reconnection every ready device counts as new (a restarted adb server has
// lost its reverse tunnels).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "adb/host_protocol.hpp"
#include "adb/server_address.hpp"
#include "io/event_loop.hpp"
#include "io/socket.hpp"

namespace rtether::adb {

class DeviceWatcher : public io::Handler {
 public:
  struct Callbacks {
    std::function<void(const std::string& serial)> appeared;
    std::function<void(const std::string& serial)> gone;
    // Every message, after the appeared/gone calls it causes; optional.
    std::function<void(const DeviceList& list)> listed;
    std::function<void(const std::string& reason)> server_unreachable;
  };
  static constexpr auto kFirstRetry = std::chrono::milliseconds(500);
  static constexpr auto kMaxRetry = std::chrono::seconds(4);

  DeviceWatcher(io::EventLoop& loop, ServerAddress server, Callbacks callbacks);
  ~DeviceWatcher() override;

  void start();
  void on_ready(std::uint32_t events) override;

  std::size_t connections() const { return connections_; }  // successful ones

 private:
  enum class Phase { Idle, Connecting, Tracking };
  void connect();
  void send_request();
  void read_stream();
  void handle_message(const std::string& message);
  void drop_connection(const std::string& reason);

  io::EventLoop& loop_;
  ServerAddress server_;
  Callbacks callbacks_;
  io::Fd fd_;
  Phase phase_ = Phase::Idle;
  HostReplyParser parser_;
  DeviceTracker tracker_;
  io::Timer retry_timer_;
  std::chrono::milliseconds retry_delay_ = kFirstRetry;
  bool outage_reported_ = false;
  bool listed_since_connect_ = false;
  std::size_t connections_ = 0;
};

}  // namespace rtether::adb
