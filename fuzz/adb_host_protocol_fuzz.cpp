// Fuzz target: the adb host protocol as an adb server (or anything claiming
// to be one) may send it. The first byte picks split points; the stream is
// fed in three pieces and must give the same messages as in one piece;
// every message goes through the device-list parser and the tracker; the
// same bytes are tried as an ADB_SERVER_SOCKET value and a dumpsys output.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "adb/gnirehtet_app.hpp"
#include "adb/host_protocol.hpp"
#include "adb/server_address.hpp"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace adb = rtether::adb;
  if (size == 0) return 0;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);

  adb::HostReplyParser whole;
  std::vector<std::string> whole_messages;
  bool whole_ok = whole.feed(stream, whole_messages);

  const std::size_t first = stream.empty() ? 0 : (data[0] * 7u) % (stream.size() + 1);
  const std::size_t second = first + (stream.size() - first) / 2;
  adb::HostReplyParser pieces;
  std::vector<std::string> piece_messages;
  bool ok = pieces.feed(stream.substr(0, first), piece_messages);
  ok = pieces.feed(stream.substr(first, second - first), piece_messages) && ok;
  ok = pieces.feed(stream.substr(second), piece_messages) && ok;
  require(ok == whole_ok);
  require(piece_messages == whole_messages);
  require(pieces.state() == whole.state());
  require(whole.buffered() <= 0xffff);
  if (!whole_ok)
    require(!whole.error().empty() || whole.state() == adb::HostReplyParser::State::Failed);

  adb::DeviceTracker tracker;
  for (const auto& message : whole_messages) {
    require(message.size() <= 0xffff);
    auto list = adb::parse_device_list(message);
    for (const auto& device : list.devices) {
      require(!device.serial.empty() && !device.state.empty());
      require(device.serial.find('\n') == std::string::npos);
    }
    auto changes = tracker.update(list);
    for (const auto& serial : changes.appeared) require(tracker.ready().count(serial) == 1);
    for (const auto& serial : changes.gone) require(tracker.ready().count(serial) == 0);
  }

  std::string error;
  auto server = adb::parse_server_socket(stream, error);
  require(server.has_value() || !error.empty());
  if (server) {
    std::string again_error;
    auto again = adb::parse_server_socket(server->to_string(), again_error);
    require(again.has_value() && again->to_string() == server->to_string());
  }
  adb::installed_version_code(stream);
  auto framed = adb::frame_request(stream);
  if (framed) {
    adb::HostReplyParser echo;
    std::vector<std::string> echoed;
    require(echo.feed("OKAY" + *framed, echoed) && echoed.size() == 1 && echoed[0] == stream);
  }
  return 0;
}
