// UpstreamProxy: see upstream_proxy.hpp.
#include "relay/upstream_proxy.hpp"

#include <string>

#include "wire/http_connect_client.hpp"
#include "wire/ip_address.hpp"

namespace rtether::relay {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 2.1; false on a '%' not followed by two hex digits.
bool percent_decode(std::string_view text, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const int high = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
    const int low = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
    if (high < 0 || low < 0) return false;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return true;
}

// RFC 1123 2.1 names: dot-separated labels of letters, digits and '-' (and
// '_', seen in the wild), 1..63 bytes each, 253 in all; at least one
// letter, so that no mistyped address ("10.0.0.256") passes as a name.
bool is_host_name(std::string_view text) {
  if (text.empty() || text.size() > 253) return false;
  std::size_t label = 0;
  bool letter = false;
  for (const char c : text) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alpha && !(c >= '0' && c <= '9') && c != '-' && c != '_') return false;
    letter = letter || alpha;
    if (++label > 63) return false;
  }
  return label > 0 && letter;
}

}  // namespace

std::unique_ptr<wire::ProxyHandshake> UpstreamProxy::tcp_handshake(
    const io::Endpoint& target) const {
  if (scheme == ProxyScheme::HttpConnect)
    return std::make_unique<wire::HttpConnectClient>(target.address, target.port, credentials);
  return std::make_unique<wire::Socks5Client>(
      wire::Socks5Command::Connect, wire::Socks5Address{target.address, target.port}, credentials);
}

std::string UpstreamProxy::to_string() const {
  // Appended piece by piece: GCC 12's -Wrestrict misreads "[" + string.
  std::string text = scheme == ProxyScheme::Socks5 ? "socks5://" : "http://";
  if (credentials) {
    text += credentials->user;
    text += '@';
  }
  const bool v6 = host.empty() && address.address.version == wire::IpVersion::V6;
  if (v6) text += '[';
  text += host.empty() ? address.address.to_string() : host;
  if (v6) text += ']';
  text += ':';
  text += std::to_string(address.port);
  return text;
}

std::optional<UpstreamProxy> parse_proxy_url(std::string_view text, std::string& error) {
  UpstreamProxy proxy;
  const std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    error = "expected socks5://[USER:PASS@]HOST:PORT or http://[USER:PASS@]HOST:PORT";
    return std::nullopt;
  }
  const std::string_view scheme = text.substr(0, scheme_end);
  if (scheme == "socks5" || scheme == "socks5h") {
    proxy.scheme = ProxyScheme::Socks5;
  } else if (scheme == "http") {
    proxy.scheme = ProxyScheme::HttpConnect;
  } else {
    error = "unsupported proxy scheme \"" + std::string(scheme) + "\" (socks5 or http)";
    return std::nullopt;
  }
  std::string_view rest = text.substr(scheme_end + 3);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  const std::size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    const std::size_t colon = userinfo.find(':');
    wire::ProxyCredentials credentials;
    if (colon == std::string_view::npos ||
        !percent_decode(userinfo.substr(0, colon), credentials.user) ||
        !percent_decode(userinfo.substr(colon + 1), credentials.password)) {
      error = "expected USER:PASS before '@' (percent-encoded where needed)";
      return std::nullopt;
    }
    // RFC 1929 2: ULEN and PLEN are one byte, and zero is no name at all.
    if (credentials.user.empty() || credentials.user.size() > 255 || credentials.password.empty() ||
        credentials.password.size() > 255) {
      error = "proxy user and password must be 1 to 255 bytes each";
      return std::nullopt;
    }
    proxy.credentials = std::move(credentials);
    rest = rest.substr(at + 1);
  }
  std::string_view host;
  std::string_view port;
  const bool bracketed = !rest.empty() && rest.front() == '[';
  if (bracketed) {
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      error = "expected [IPV6]:PORT";
      return std::nullopt;
    }
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    const std::size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
      error = "the proxy's PORT is missing (HOST:PORT)";
      return std::nullopt;
    }
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  const bool address = wire::IpAddress::parse(std::string(host), proxy.address.address);
  if (!bracketed && !address && is_host_name(host)) {
    proxy.host = std::string(host);  // resolved at start-up (cli)
  } else if (!address || bracketed != (proxy.address.address.version == wire::IpVersion::V6)) {
    error = "the proxy's HOST must be a host name or an IP address (IPv6 in brackets), not \"" +
            std::string(host) + "\"";
    return std::nullopt;
  }
  auto parsed_port = wire::parse_port(port);
  if (parsed_port) proxy.address.port = *parsed_port;
  if (!parsed_port) {
    error = "bad proxy port \"" + std::string(port) + "\" (1-65535)";
    return std::nullopt;
  }
  return proxy;
}

}  // namespace rtether::relay
