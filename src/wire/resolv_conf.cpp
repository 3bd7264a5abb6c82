// resolv.conf parsing: see resolv_conf.hpp.
#include "wire/resolv_conf.hpp"

#include <string>

namespace rtether::wire {

namespace {
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// The next blank-separated word of `line` from `at`, moving `at` past it.
std::string_view next_word(std::string_view line, std::size_t& at) {
  while (at < line.size() && is_blank(line[at])) ++at;
  const std::size_t start = at;
  while (at < line.size() && !is_blank(line[at])) ++at;
  return line.substr(start, at - start);
}
}  // namespace

std::vector<IpAddress> parse_resolv_conf(std::string_view text) {
  std::vector<IpAddress> servers;
  std::size_t line_start = 0;
  while (line_start < text.size() && servers.size() < kResolvConfMaxServers) {
    std::size_t line_end = text.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = text.size();
    const std::string_view line = text.substr(line_start, line_end - line_start);
    line_start = line_end + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    std::size_t at = 0;
    if (next_word(line, at) != "nameserver") continue;
    const std::string_view value = next_word(line, at);
    IpAddress address;
    if (!value.empty() && IpAddress::parse(std::string(value), address)) servers.push_back(address);
  }
  return servers;
}

}  // namespace rtether::wire
