// The adb server's host protocol ("smart sockets"), as a pure parser with no
// I/O, so it is unit-tested byte by byte and fuzzed.
//
// A client opens a stream to the adb server and sends one request framed as
// 4 lowercase hex digits of length then the bytes (`0012host:track-devices`).
// The server answers `OKAY`, or `FAIL` plus a framed reason. After OKAY,
// `host:track-devices` sends a stream of framed messages, one per change,
// each the whole device list: lines `SERIAL\tSTATE\n`. `host:track-devices-l`
// (what DeviceWatcher asks) pads SERIAL with spaces instead of the tab
// (adb's "%-22s %s") and adds space-separated fields after STATE
// (`usb:1-1 product:P model:M device:D transport_id:N`, empty ones left
// out); the model is kept, the other fields are ignored. A message may be
// up to 65535 bytes (4 hex digits); nothing here assumes a smaller buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace rtether::adb {

// `0012host:track-devices`; nullopt when the request is longer than 65535.
std::optional<std::string> frame_request(std::string_view request);

// Incremental reader of a host-protocol answer: the OKAY/FAIL status, then
// framed messages. Survives any split of the input across feed() calls.
class HostReplyParser {
 public:
  enum class State { Status, FailLength, FailReason, Length, Payload, Failed, Broken };

  // Consumes `data`; complete messages are appended to `messages`. Returns
  // false once the server said FAIL (reason()) or the stream is not the
  // protocol (error()); later calls do nothing.
  bool feed(std::string_view data, std::vector<std::string>& messages);

  State state() const { return state_; }
  bool acknowledged() const { return acknowledged_; }    // OKAY seen
  const std::string& reason() const { return reason_; }  // after FAIL
  const std::string& error() const { return error_; }    // after Broken
  std::size_t buffered() const { return pending_.size(); }

 private:
  bool take(std::string_view& data, std::size_t bytes);
  void fail(std::string text);

  State state_ = State::Status;
  bool acknowledged_ = false;
  std::size_t expected_ = 0;
  std::string pending_;
  std::string reason_;
  std::string error_;
};

// Parses 4 hex digits (either case, as adb accepts); nullopt otherwise.
std::optional<std::size_t> parse_hex_length(std::string_view digits);

struct DeviceEntry {
  std::string serial;
  std::string state;  // "device", "offline", "unauthorized", "recovery", ...
                      // (the first word: "no permissions (...)" is "no")
  std::string model;  // `model:` of the long form (ro.product.model, spaces as _); may be empty
  friend bool operator==(const DeviceEntry&, const DeviceEntry&) = default;
};

struct DeviceList {
  std::vector<DeviceEntry> devices;
  std::size_t malformed_lines = 0;  // lines without SERIAL<TAB or spaces>STATE
};

DeviceList parse_device_list(std::string_view message);

// The devices that count (state "device") across successive lists: which
// ones appeared and which went away since the previous list.
class DeviceTracker {
 public:
  struct Changes {
    std::vector<std::string> appeared;
    std::vector<std::string> gone;
  };
  Changes update(const DeviceList& list);
  // After a reconnection to the server every ready device is new again.
  void reset() { ready_.clear(); }
  const std::set<std::string>& ready() const { return ready_; }

 private:
  std::set<std::string> ready_;
};

}  // namespace rtether::adb
