// HttpConnectClient: the client side of an HTTP CONNECT tunnel (RFC 9110
// 9.3.6), over HTTP/1.1 (RFC 9112).
//
//   CONNECT 192.0.2.1:443 HTTP/1.1\r\n          (IPv6: [2001:db8::1]:443)
//   Host: 192.0.2.1:443\r\n
//   [Proxy-Authorization: Basic base64(user:password)\r\n]   RFC 9110 11.7.2,
//   RFC 7617 \r\n
//   <- HTTP/1.1 200 Connection established\r\n ... \r\n
//
// Any 2xx status opens the tunnel (RFC 9110 9.3.6): the bytes after the
// response's empty line are the target's. 407 is an authentication
// failure (or requirement, without credentials), 403 a rule of the proxy,
// every other status a refusal. The response header may end its lines with
// a bare LF (RFC 9112 2.2) and may not exceed kMaxResponseHeader bytes.
#pragma once

#include <optional>

#include "wire/proxy_handshake.hpp"

namespace rtether::wire {

class HttpConnectClient final : public ProxyHandshake {
 public:
  // Far more than any proxy's CONNECT response; a longer one is malformed.
  static constexpr std::size_t kMaxResponseHeader = kMaxAnswer;

  // Queues the request.
  HttpConnectClient(const IpAddress& target, std::uint16_t port,
                    const std::optional<ProxyCredentials>& credentials);

  std::size_t feed(Bytes input) override;

  // The response's status code (0 before one was read).
  int status() const { return status_; }

 private:
  std::size_t on_response(std::string_view header);

  bool had_credentials_;
  int status_ = 0;
};

}  // namespace rtether::wire
