// parse_proxy_setting; see ui_profile.hpp.
#include "mgmt/ui_profile.hpp"

#include <charconv>

namespace rtether::mgmt {

std::optional<ProxySetting> parse_proxy_setting(std::string_view text, std::string& error) {
  ProxySetting setting;
  auto scheme_end = text.find("://");
  std::string_view scheme = text.substr(0, scheme_end);
  if (scheme_end == std::string_view::npos) {
    error = "'" + std::string(text) + "' is not http://HOST:PORT or socks://HOST:PORT";
    return std::nullopt;
  }
  if (scheme == "http") {
    setting.kind = ProxySetting::Kind::Http;
  } else if (scheme == "socks" || scheme == "socks5") {
    setting.kind = ProxySetting::Kind::Socks;
  } else {
    error = "proxy scheme '" + std::string(scheme) + "' is not http or socks";
    return std::nullopt;
  }
  std::string_view rest = text.substr(scheme_end + 3);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  std::size_t colon;
  if (!rest.empty() && rest[0] == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      error = "'" + std::string(text) + "': an IPv6 host is [ADDRESS]:PORT";
      return std::nullopt;
    }
    setting.host = std::string(rest.substr(1, close - 1));
    colon = close + 1;
  } else {
    colon = rest.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      error = "'" + std::string(text) + "' has no HOST:PORT";
      return std::nullopt;
    }
    setting.host = std::string(rest.substr(0, colon));
  }
  std::string_view port = rest.substr(colon + 1);
  unsigned value = 0;
  auto [end, parse_error] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || parse_error != std::errc() || end != port.data() + port.size() ||
      value == 0 || value > 65535 || setting.host.empty() ||
      setting.host.find_first_of(" \t'\"\\") != std::string::npos) {
    error = "'" + std::string(text) + "' has no valid HOST:PORT";
    return std::nullopt;
  }
  setting.port = std::string(port);
  return setting;
}

}  // namespace rtether::mgmt
