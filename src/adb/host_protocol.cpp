// The adb host protocol parser; see host_protocol.hpp.
#include "adb/host_protocol.hpp"

#include <algorithm>
#include <cstdio>

namespace rtether::adb {

namespace {
constexpr std::size_t kMaxFramed = 0xffff;  // 4 hex digits
constexpr std::size_t kStatusBytes = 4;     // "OKAY" / "FAIL"
constexpr std::size_t kLengthBytes = 4;

std::string printable(std::string_view bytes) {
  std::string text;
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f) {
      text.push_back(static_cast<char>(c));
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      text += escaped;
    }
  }
  return text;
}
}  // namespace

std::optional<std::string> frame_request(std::string_view request) {
  if (request.size() > kMaxFramed) return std::nullopt;
  char length[8];
  std::snprintf(length, sizeof length, "%04zx", request.size());
  std::string framed(length);
  framed.append(request);
  return framed;
}

std::optional<std::size_t> parse_hex_length(std::string_view digits) {
  if (digits.size() != kLengthBytes) return std::nullopt;
  std::size_t value = 0;
  for (char c : digits) {
    int nibble;
    if (c >= '0' && c <= '9') {
      nibble = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      nibble = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      nibble = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    value = value * 16 + static_cast<std::size_t>(nibble);
  }
  return value;
}

// Moves bytes from `data` into pending_ until it holds `bytes`; true when it does.
bool HostReplyParser::take(std::string_view& data, std::size_t bytes) {
  std::size_t wanted = bytes - pending_.size();
  std::size_t now = std::min(wanted, data.size());
  pending_.append(data.substr(0, now));
  data.remove_prefix(now);
  return pending_.size() == bytes;
}

void HostReplyParser::fail(std::string text) {
  state_ = State::Broken;
  error_ = std::move(text);
  pending_.clear();
}

bool HostReplyParser::feed(std::string_view data, std::vector<std::string>& messages) {
  while (!data.empty() || (state_ == State::Payload && pending_.size() == expected_) ||
         (state_ == State::FailReason && pending_.size() == expected_)) {
    switch (state_) {
      case State::Status:
        if (!take(data, kStatusBytes)) return true;
        if (pending_ == "OKAY") {
          acknowledged_ = true;
          state_ = State::Length;
        } else if (pending_ == "FAIL") {
          state_ = State::FailLength;
        } else {
          fail("not an adb server answer: '" + printable(pending_) + "'");
          return false;
        }
        pending_.clear();
        break;
      case State::FailLength:
      case State::Length: {
        if (!take(data, kLengthBytes)) return true;
        auto length = parse_hex_length(pending_);
        if (!length) {
          fail("bad length '" + printable(pending_) + "' in adb server answer");
          return false;
        }
        expected_ = *length;
        pending_.clear();
        state_ = state_ == State::Length ? State::Payload : State::FailReason;
        break;
      }
      case State::Payload:
        if (!take(data, expected_)) return true;
        messages.push_back(std::move(pending_));
        pending_.clear();
        state_ = State::Length;
        break;
      case State::FailReason:
        if (!take(data, expected_)) return true;
        reason_ = std::move(pending_);
        pending_.clear();
        state_ = State::Failed;
        return false;
      case State::Failed:
      case State::Broken:
        return false;
    }
  }
  return state_ != State::Failed && state_ != State::Broken;
}

DeviceList parse_device_list(std::string_view message) {
  DeviceList list;
  while (!message.empty()) {
    std::size_t end = message.find('\n');
    std::string_view line = message.substr(0, end);
    message.remove_prefix(end == std::string_view::npos ? message.size() : end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    // Short form: a tab after the serial; long form: spaces.
    std::size_t tab = line.find('\t');
    std::size_t end_of_serial = tab != std::string_view::npos ? tab : line.find(' ');
    if (end_of_serial == 0 || end_of_serial == std::string_view::npos) {
      ++list.malformed_lines;
      continue;
    }
    std::string_view rest = line.substr(end_of_serial + 1);
    if (tab == std::string_view::npos) rest.remove_prefix(std::min(rest.find_first_not_of(' '),
                                                                   rest.size()));
    std::size_t space = rest.find(' ');
    std::string_view state = rest.substr(0, space);
    if (state.empty()) {
      ++list.malformed_lines;
      continue;
    }
    DeviceEntry entry{std::string(line.substr(0, end_of_serial)), std::string(state), {}};
    constexpr std::string_view kModel = " model:";
    if (auto model = rest.find(kModel); model != std::string_view::npos) {
      std::string_view value = rest.substr(model + kModel.size());
      entry.model = std::string(value.substr(0, value.find(' ')));
    }
    list.devices.push_back(std::move(entry));
  }
  return list;
}

DeviceTracker::Changes DeviceTracker::update(const DeviceList& list) {
  std::set<std::string> now;
  for (const auto& device : list.devices)
    if (device.state == "device") now.insert(device.serial);
  Changes changes;
  std::set_difference(now.begin(), now.end(), ready_.begin(), ready_.end(),
                      std::back_inserter(changes.appeared));
  std::set_difference(ready_.begin(), ready_.end(), now.begin(), now.end(),
                      std::back_inserter(changes.gone));
  ready_ = std::move(now);
  return changes;
}

}  // namespace rtether::adb
