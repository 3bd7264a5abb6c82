// windows_command_line; see windows_command_line.hpp.
#include "io/windows_command_line.hpp"

namespace rtether::io {

namespace {
bool needs_quotes(const std::string& arg) {
  return arg.empty() || arg.find_first_of(" \t\n\v\"") != std::string::npos;
}

void append_quoted(std::string& line, const std::string& arg) {
  if (!needs_quotes(arg)) {
    line += arg;
    return;
  }
  line += '"';
  std::size_t backslashes = 0;
  for (char c : arg) {
    if (c == '\\') {
      ++backslashes;
      continue;
    }
    // Backslashes are literal unless a quote follows: then each is doubled
    // and the quote itself escaped.
    line.append(c == '"' ? 2 * backslashes + 1 : backslashes, '\\');
    backslashes = 0;
    line += c;
  }
  // Before the closing quote, doubled so that they do not escape it.
  line.append(2 * backslashes, '\\');
  line += '"';
}
}  // namespace

std::string windows_command_line(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& arg : argv) {
    if (!line.empty()) line += ' ';
    append_quoted(line, arg);
  }
  return line;
}

}  // namespace rtether::io
