// DeviceWatcher: follows the devices adb sees, through the adb server's
// `host:track-devices` stream (host_protocol.hpp), on the caller's event
// loop (never blocking it: connects are non-blocking, TCP and UNIX alike).
// Each ready device that appears is reported once; one that goes away
// (unplugged, offline, unauthorized) is reported gone, and reported again
// when it comes back. When the server cannot be reached, or closes the
// stream, `server_unreachable` is called (the caller runs `adb
// start-server`); when it answers FAIL, garbage, or not at all within
// kHandshakeTimeout (OKAY and the first list), that is logged once and no
// start-server is asked (a server that answers is running). Either way the
// watcher retries with a growing delay; after a reconnection every ready
// device counts as new (a restarted adb server has lost its reverse
// tunnels).
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
  static constexpr auto kHandshakeTimeout = std::chrono::seconds(5);

  DeviceWatcher(io::EventLoop& loop, ServerAddress server, Callbacks callbacks);
  ~DeviceWatcher() override;

  void start();
  void on_ready(io::Readiness readiness) override;

  std::size_t connections() const { return connections_; }  // successful ones
  // For tests: a shorter handshake time limit (default kHandshakeTimeout).
  void set_handshake_timeout(std::chrono::milliseconds limit) { handshake_timeout_ = limit; }

 private:
  enum class Phase { Idle, Connecting, Tracking };
  void connect();
  void send_request();
  void read_stream();
  void handle_message(const std::string& message);
  // `unreachable`: connect error or end of stream (ask for start-server);
  // otherwise the server answered wrongly or not in time.
  void drop_connection(const std::string& reason, bool unreachable);

  io::EventLoop& loop_;
  ServerAddress server_;
  Callbacks callbacks_;
  io::Fd fd_;
  Phase phase_ = Phase::Idle;
  HostReplyParser parser_;
  DeviceTracker tracker_;
  io::Timer retry_timer_;
  io::Timer handshake_timer_;  // from connect until the first device list
  std::chrono::milliseconds retry_delay_ = kFirstRetry;
  std::chrono::milliseconds handshake_timeout_ = kHandshakeTimeout;
  bool outage_reported_ = false;
  bool listed_since_connect_ = false;
  std::size_t connections_ = 0;
};

}  // namespace rtether::adb
