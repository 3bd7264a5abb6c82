// mgmt/: the OpenVPN management protocol, as rtether's device daemon speaks
// it (daemon side) and as `rtether vpnservice` drives it (UI side).
//
//   bytes from the peer -> LineReader (\n-terminated lines, \r and other
//   control bytes dropped, overlong lines discarded) -> split_command
//   (OpenVPN quoting) -> ManagementCore (daemon) or UiSession (UI)
//   -> reply / real-time lines (messages.hpp) -> bytes to the peer.
//
// Everything in this folder except management_server.* and ui_client.* is
// pure: no sockets, no threads, time passed in, so the transcripts recorded
// from real OpenVPN binaries drive the unit tests directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rtether::mgmt {

// OpenVPN's management command buffer (manage.c: command_line_new(1024)).
inline constexpr std::size_t kMaxLineLength = 1024;
// OpenVPN's MAX_PARMS: words past this are ignored.
inline constexpr std::size_t kMaxArguments = 16;

// Cuts a byte stream into lines. Only printable ASCII and '\n' are kept
// (OpenVPN keeps CC_PRINT|CC_NEWLINE), so "\r\n" ends a line like "\n". A
// line longer than kMaxLineLength is discarded whole, up to its '\n'.
class LineReader {
 public:
  // Appends data; returns the complete lines it finished, in order.
  std::vector<std::string> feed(std::string_view data);

  // Lines thrown away for being too long, since construction.
  std::uint64_t discarded_lines() const { return discarded_lines_; }
  // Bytes of an unfinished line waiting for its '\n'.
  std::size_t pending() const { return line_.size(); }

 private:
  std::string line_;
  bool discarding_ = false;
  std::uint64_t discarded_lines_ = 0;
};

struct SplitResult {
  std::vector<std::string> arguments;  // empty for a blank or comment line
  std::string error;                   // non-empty: the line was refused
};

// Splits one line into arguments the way OpenVPN's parse_line() does:
// white space separates; "..." groups with backslash escapes inside;
// '...' groups literally; a backslash outside quotes escapes the next
// byte; '#' or ';' where an argument would start begins a comment. An
// unclosed quote or a trailing backslash is an error with OpenVPN's text.
SplitResult split_command(std::string_view line);

// Quotes one argument so split_command returns it unchanged (for the UI).
std::string quote_argument(std::string_view argument);

}  // namespace rtether::mgmt
