// Reads the recorded management transcripts in tests/mgmt/data/: one event
// per line, "TIME << b'...'" (daemon -> UI) or "TIME >> b'...'" (UI ->
// daemon), payloads as Python bytes literals, "[SCM_RIGHTS ...]" when a
// descriptor went with them.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace rtether::mgmt::testing {

struct TranscriptEvent {
  bool from_daemon = false;
  std::string bytes;
  bool with_fd = false;
};

inline std::string unescape_python_bytes(const std::string& literal) {
  // literal is b'...' or b"..."
  if (literal.size() < 3 || literal[0] != 'b') throw std::runtime_error("not bytes: " + literal);
  char quote = literal[1];
  std::size_t end = literal.rfind(quote);
  std::string out;
  for (std::size_t i = 2; i < end; ++i) {
    char c = literal[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    char next = literal[++i];
    switch (next) {
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'x': {
        out.push_back(static_cast<char>(std::stoi(literal.substr(i + 1, 2), nullptr, 16)));
        i += 2;
        break;
      }
      default: out.push_back(next); break;
    }
  }
  return out;
}

inline std::vector<TranscriptEvent> read_transcript(const std::string& name) {
  std::ifstream file(std::string(RTETHER_MGMT_DATA) + "/" + name);
  if (!file) throw std::runtime_error("cannot open transcript " + name);
  std::vector<TranscriptEvent> events;
  std::string line;
  while (std::getline(file, line)) {
    auto arrow = line.find(" << b");
    bool from_daemon = true;
    if (arrow == std::string::npos) {
      arrow = line.find(" >> b");
      from_daemon = false;
    }
    if (arrow == std::string::npos) continue;
    std::string rest = line.substr(arrow + 4);
    bool with_fd = rest.find("[SCM_RIGHTS") != std::string::npos;
    if (with_fd) rest = rest.substr(0, rest.find("  [SCM_RIGHTS"));
    events.push_back({from_daemon, unescape_python_bytes(rest), with_fd});
  }
  return events;
}

// Splits "a\r\nb\r\n" into {"a", "b"}.
inline std::vector<std::string> crlf_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find("\r\n", start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 2;
  }
  return lines;
}

inline const std::vector<std::string>& all_transcripts() {
  static const std::vector<std::string> names = {
      "transcript-android-basic.txt",  "transcript-android-cancel.txt",
      "transcript-android-netchange.txt", "transcript-android-persist.txt",
      "transcript-android-pull.txt",   "transcript-android-tcp.txt",
      "transcript-client.txt",         "transcript-listen.txt",
      "transcript-password.txt"};
  return names;
}

}  // namespace rtether::mgmt::testing
