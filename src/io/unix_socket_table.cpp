// /proc/net/unix parsing and reading; see unix_socket_table.hpp.
#include "io/unix_socket_table.hpp"

#include <charconv>
#include <fstream>
#include <iterator>

namespace rtether::io {

namespace {
// __SO_ACCEPTCON in include/linux/net.h: set by listen().
constexpr unsigned long kAcceptConnections = 0x10000;
// Num RefCount Protocol Flags Type St Inode, then the optional path.
constexpr int kFieldsBeforePath = 7;
constexpr int kFlagsField = 3;

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// One line, without its newline; false for an unbound socket or a line that
// is not an entry (the header, garbage).
bool parse_line(std::string_view line, UnixSocketEntry& entry) {
  std::size_t at = 0;
  unsigned long flags = 0;
  for (int field = 0; field < kFieldsBeforePath; ++field) {
    while (at < line.size() && is_blank(line[at])) ++at;
    std::size_t start = at;
    while (at < line.size() && !is_blank(line[at])) ++at;
    if (start == at) return false;
    if (field == kFlagsField) {
      auto [end, error] = std::from_chars(line.data() + start, line.data() + at, flags, 16);
      if (error != std::errc{} || end != line.data() + at) return false;
    }
  }
  // The kernel writes one space, then the path as is: a file name may hold
  // spaces of its own.
  if (at + 1 >= line.size()) return false;
  entry.path = std::string(line.substr(at + 1));
  entry.listening = (flags & kAcceptConnections) != 0;
  return true;
}
}  // namespace

std::vector<UnixSocketEntry> parse_unix_socket_table(std::string_view text) {
  std::vector<UnixSocketEntry> entries;
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    UnixSocketEntry entry;
    if (parse_line(line, entry)) entries.push_back(std::move(entry));
  }
  return entries;
}

bool unix_socket_listening(std::string_view path) {
  std::ifstream file("/proc/net/unix");
  std::string text{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  for (const auto& entry : parse_unix_socket_table(text)) {
    if (entry.listening && entry.path == path) return true;
  }
  return false;
}

}  // namespace rtether::io
