// HTTP/1.1 responses of the metrics endpoint (RFC 9112 4 status line, RFC
// 9110 fields): always a Content-Length and `Connection: close`, since the
// server answers one request per connection and then closes it.
#pragma once

#include <string>
#include <string_view>

namespace rtether::wire {

struct HttpResponse {
  int status = 200;
  std::string_view reason = "OK";
  std::string_view content_type = "text/plain; charset=utf-8";
  std::string_view allow;  // the Allow field of a 405 (RFC 9110 15.5.6), when not empty
  std::string_view body;
  bool head_only = false;  // a HEAD request: the fields of the GET, no body (RFC 9110 9.3.2)
};

std::string format_http_response(const HttpResponse& response);

}  // namespace rtether::wire
