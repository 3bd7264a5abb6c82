// HTTP response formatting; see http_response.hpp.
#include "wire/http_response.hpp"

#include <fmt/core.h>

namespace rtether::wire {

std::string format_http_response(const HttpResponse& response) {
  std::string text =
      fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n", response.status,
                  response.reason, response.content_type, response.body.size());
  if (!response.allow.empty()) text += fmt::format("Allow: {}\r\n", response.allow);
  text += "Connection: close\r\n\r\n";
  if (!response.head_only) text += response.body;
  return text;
}

}  // namespace rtether::wire
