// HTTP/1.x request head parser; see http_request.hpp.
#include "wire/http_request.hpp"

#include <algorithm>
#include <optional>

namespace rtether::wire {

namespace {

// tchar (RFC 9110 5.6.2).
bool is_token_char(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_token_char);
}

// field-vchar, SP and HTAB (RFC 9110 5.5): no other control byte.
bool is_field_value(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte == '\t' || (byte >= 0x20 && byte != 0x7F);
  });
}

// A request-target in any form: visible ASCII, no space (RFC 9112 3.2).
bool is_target(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte > 0x20 && byte < 0x7F;
  });
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
           return lower(x) == lower(y);
         });
}

std::string_view trim_whitespace(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// "HTTP/1.x": the minor version, or nothing.
std::optional<int> http1_minor_version(std::string_view version) {
  if (version.size() != 8 || !version.starts_with("HTTP/1.")) return std::nullopt;
  char minor = version[7];
  if (minor < '0' || minor > '9') return std::nullopt;
  return minor - '0';
}

bool parse_request_line(std::string_view line, HttpRequestHead& head) {
  auto first_space = line.find(' ');
  if (first_space == std::string_view::npos) return false;
  auto second_space = line.find(' ', first_space + 1);
  if (second_space == std::string_view::npos) return false;
  head.method = line.substr(0, first_space);
  head.target = line.substr(first_space + 1, second_space - first_space - 1);
  auto version = http1_minor_version(line.substr(second_space + 1));
  if (!is_token(head.method) || !is_target(head.target) || !version) return false;
  head.minor_version = *version;
  head.path = head.target.substr(0, head.target.find('?'));
  return true;
}

// One header field line; counts Host fields.
bool parse_field_line(std::string_view line, int& host_fields) {
  // Obsolete line folding (RFC 9112 5.2) is refused, not unfolded.
  if (line.front() == ' ' || line.front() == '\t') return false;
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  // No whitespace between name and colon (RFC 9112 5.1): is_token refuses it.
  std::string_view name = line.substr(0, colon);
  if (!is_token(name)) return false;
  if (!is_field_value(trim_whitespace(line.substr(colon + 1)))) return false;
  if (equals_ignoring_case(name, "host")) ++host_fields;
  return true;
}

}  // namespace

HttpRequestHead parse_http_request(Bytes received, std::size_t max_head_size) {
  HttpRequestHead head;
  std::string_view text(reinterpret_cast<const char*>(received.data()),
                        std::min(received.size(), max_head_size));
  // RFC 9112 2.2: one empty line before the request line is ignored.
  std::size_t start = text.starts_with("\r\n") ? 2 : text.starts_with('\n') ? 1 : 0;
  bool request_line = true;
  int host_fields = 0;
  while (true) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) {
      head.status = received.size() >= max_head_size ? HttpParseStatus::TooLarge
                                                     : HttpParseStatus::Incomplete;
      return head;
    }
    std::string_view line = text.substr(start, end - start);
    if (line.ends_with('\r')) line.remove_suffix(1);
    start = end + 1;
    if (request_line) {
      request_line = false;
      if (!parse_request_line(line, head)) break;
      continue;
    }
    if (line.empty()) {
      if (head.minor_version >= 1 && host_fields != 1) break;
      head.status = HttpParseStatus::Complete;
      head.head_size = start;
      return head;
    }
    if (!parse_field_line(line, host_fields)) break;
  }
  head = HttpRequestHead{};
  head.status = HttpParseStatus::BadRequest;
  return head;
}

}  // namespace rtether::wire
