// Text of every line the daemon sends on the management socket, in OpenVPN's
// exact layout (manage.c), and the parsing of those lines on the UI side.
// Lines are returned without "\r\n"; the sender appends it.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace rtether::mgmt {

inline constexpr int kManagementVersion = 5;  // what OpenVPN 2.6 announces

// One entry of the state history (>STATE: without its prefix):
// TIME,NAME,DETAIL,TUN_IPV4,REMOTE_ADDR,REMOTE_PORT,LOCAL_ADDR,LOCAL_PORT[,TUN_IPV6]
struct StateEntry {
  std::time_t time = 0;
  std::string name;
  std::string detail;
  std::string tun_ipv4;
  std::string remote_address;
  std::string remote_port;
  std::string local_address;
  std::string local_port;
  std::string tun_ipv6;  // a ninth field only when set
};

// One entry of the log or echo history: TIME,FLAGS,TEXT.
struct LogEntry {
  std::time_t time = 0;
  std::string flags;  // among I, F, N, W, D; may be empty
  std::string text;
};

std::string format_state(const StateEntry& entry);
std::string format_log(const LogEntry& entry);

std::string info_greeting();  // >INFO:OpenVPN Management Interface Version 5 -- ...
std::string hold_line(int wait_seconds);
std::string need_ok_line(std::string_view type, std::string_view payload);
std::string bytecount_line(std::uint64_t bytes_in, std::uint64_t bytes_out);
std::string fatal_line(std::string_view text);
std::string need_ok_success(std::string_view type);
std::string protect_fd_reply(int fd);

// UI side: a real-time line from the daemon, split into its type and body
// (">STATE:x" -> {"STATE", "x"}); nullopt for a reply line.
struct RealtimeLine {
  std::string type;
  std::string body;
};
std::optional<RealtimeLine> parse_realtime(std::string_view line);

// ">NEED-OK:Need 'TYPE' confirmation MSG:PAYLOAD" body -> type, payload.
struct NeedOkRequest {
  std::string type;
  std::string payload;
};
std::optional<NeedOkRequest> parse_need_ok(std::string_view body);

// ">BYTECOUNT:IN,OUT" body -> two counters.
struct ByteCount {
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
};
std::optional<ByteCount> parse_bytecount(std::string_view body);

// ">STATE:" body -> entry (at least 3 comma fields, as ics-openvpn needs).
std::optional<StateEntry> parse_state(std::string_view body);

}  // namespace rtether::mgmt
