// Management line formats; see messages.hpp.
#include "mgmt/messages.hpp"

#include <charconv>
#include <vector>

#include <fmt/core.h>

namespace rtether::mgmt {

std::string format_state(const StateEntry& e) {
  std::string line = fmt::format("{},{},{},{},{},{},{},{}", static_cast<long long>(e.time), e.name,
                                 e.detail, e.tun_ipv4, e.remote_address, e.remote_port,
                                 e.local_address, e.local_port);
  if (!e.tun_ipv6.empty()) line += "," + e.tun_ipv6;
  return line;
}

std::string format_log(const LogEntry& e) {
  return fmt::format("{},{},{}", static_cast<long long>(e.time), e.flags, e.text);
}

std::string info_greeting() {
  return fmt::format(">INFO:OpenVPN Management Interface Version {} -- type 'help' for more info",
                     kManagementVersion);
}

std::string hold_line(int wait_seconds) {
  return fmt::format(">HOLD:Waiting for hold release:{}", wait_seconds);
}

std::string need_ok_line(std::string_view type, std::string_view payload) {
  return fmt::format(">NEED-OK:Need '{}' confirmation MSG:{}", type, payload);
}

std::string bytecount_line(std::uint64_t bytes_in, std::uint64_t bytes_out) {
  return fmt::format(">BYTECOUNT:{},{}", bytes_in, bytes_out);
}

std::string fatal_line(std::string_view text) { return fmt::format(">FATAL:{}", text); }

std::string need_ok_success(std::string_view type) {
  return fmt::format("SUCCESS: '{}' needok-confirmation entered, but not yet verified", type);
}

std::string protect_fd_reply(int fd) {
  return fmt::format("PROTECTFD: fd '{}' sent to be protected", fd);
}

std::optional<RealtimeLine> parse_realtime(std::string_view line) {
  if (line.size() < 2 || line[0] != '>') return std::nullopt;
  auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 1) return std::nullopt;
  return RealtimeLine{std::string(line.substr(1, colon - 1)), std::string(line.substr(colon + 1))};
}

std::optional<NeedOkRequest> parse_need_ok(std::string_view body) {
  constexpr std::string_view kPrefix = "Need '";
  constexpr std::string_view kMiddle = "' confirmation";
  if (body.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  auto end = body.find(kMiddle, kPrefix.size());
  if (end == std::string_view::npos) return std::nullopt;
  NeedOkRequest request;
  request.type = std::string(body.substr(kPrefix.size(), end - kPrefix.size()));
  auto message = body.find(" MSG:", end);
  if (message != std::string_view::npos) request.payload = std::string(body.substr(message + 5));
  if (request.type.empty()) return std::nullopt;
  return request;
}

namespace {
bool parse_u64(std::string_view text, std::uint64_t& out) {
  if (text.empty()) return false;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

std::vector<std::string_view> split_commas(std::string_view text) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  for (;;) {
    auto comma = text.find(',', start);
    fields.push_back(text.substr(start, comma == std::string_view::npos ? text.npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return fields;
}
}  // namespace

std::optional<ByteCount> parse_bytecount(std::string_view body) {
  auto fields = split_commas(body);
  ByteCount count;
  if (fields.size() != 2 || !parse_u64(fields[0], count.bytes_in) ||
      !parse_u64(fields[1], count.bytes_out)) {
    return std::nullopt;
  }
  return count;
}

std::optional<StateEntry> parse_state(std::string_view body) {
  auto fields = split_commas(body);
  if (fields.size() < 3) return std::nullopt;
  std::uint64_t time = 0;
  if (!parse_u64(fields[0], time)) return std::nullopt;
  StateEntry entry;
  entry.time = static_cast<std::time_t>(time);
  entry.name = std::string(fields[1]);
  entry.detail = std::string(fields[2]);
  std::string* rest[] = {&entry.tun_ipv4,      &entry.remote_address, &entry.remote_port,
                         &entry.local_address, &entry.local_port,     &entry.tun_ipv6};
  for (std::size_t i = 3; i < fields.size() && i - 3 < std::size(rest); ++i) {
    *rest[i - 3] = std::string(fields[i]);
  }
  return entry;
}

}  // namespace rtether::mgmt
