// HttpConnectClient: see http_connect_client.hpp.
#include "wire/http_connect_client.hpp"

#include <string>

#include "wire/base64.hpp"

namespace rtether::wire {

HttpConnectClient::HttpConnectClient(const IpAddress& target, std::uint16_t port,
                                     const std::optional<ProxyCredentials>& credentials)
    : had_credentials_(credentials.has_value()) {
  // RFC 9110 9.3.6: the request target is authority-form, host:port; an
  // IPv6 host is an IP-literal in brackets (RFC 3986 3.2.2).
  // Appended piece by piece: GCC 12's -Wrestrict misreads "[" + string.
  std::string authority;
  if (target.version == IpVersion::V6) authority += '[';
  authority += target.to_string();
  if (target.version == IpVersion::V6) authority += ']';
  authority += ':';
  authority += std::to_string(port);
  std::string request = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
  if (credentials)
    request += "Proxy-Authorization: Basic " +
               base64_encode(credentials->user + ":" + credentials->password) + "\r\n";
  request += "\r\n";
  queue(Bytes{reinterpret_cast<const std::uint8_t*>(request.data()), request.size()});
}

std::size_t HttpConnectClient::feed(Bytes input) {
  if (state_ != State::Waiting) return 0;
  const std::string_view text(reinterpret_cast<const char*>(input.data()), input.size());
  // The header ends at the first empty line: LF LF, with optional CRs.
  std::size_t line_start = 0;
  while (line_start < text.size() && line_start <= kMaxResponseHeader) {
    const std::size_t line_end = text.find('\n', line_start);
    if (line_end == std::string_view::npos) break;
    std::string_view line = text.substr(line_start, line_end - line_start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() && line_start > 0) {
      const std::size_t length = line_end + 1;
      if (length > kMaxResponseHeader) return fail(ProxyError::Malformed);
      return on_response(text.substr(0, length));
    }
    line_start = line_end + 1;
  }
  if (text.size() >= kMaxResponseHeader) return fail(ProxyError::Malformed);
  return 0;
}

std::size_t HttpConnectClient::on_response(std::string_view header) {
  // RFC 9112 4: status-line = HTTP-version SP status-code SP [ reason-phrase ],
  // HTTP-version = "HTTP/" DIGIT "." DIGIT.
  constexpr std::string_view kPrefix = "HTTP/1.";
  if (header.size() < kPrefix.size() + 6 || header.substr(0, kPrefix.size()) != kPrefix)
    return fail(ProxyError::Malformed);
  std::string_view rest = header.substr(kPrefix.size());
  if (rest[0] < '0' || rest[0] > '9' || rest[1] != ' ') return fail(ProxyError::Malformed);
  int status = 0;
  for (std::size_t i = 2; i < 5; ++i) {
    if (rest[i] < '0' || rest[i] > '9') return fail(ProxyError::Malformed);
    status = status * 10 + (rest[i] - '0');
  }
  if (rest[5] != ' ' && rest[5] != '\r' && rest[5] != '\n') return fail(ProxyError::Malformed);
  status_ = status;
  if (status >= 200 && status <= 299) {
    state_ = State::Done;
    return header.size();
  }
  if (status == 407)
    return fail(had_credentials_ ? ProxyError::AuthFailed : ProxyError::AuthRequired);
  if (status == 403) return fail(ProxyError::NotAllowed);
  if (status < 100) return fail(ProxyError::Malformed);
  return fail(ProxyError::TargetRefused);
}

}  // namespace rtether::wire
