// HTTP/1.x request heads (RFC 9112), as the metrics endpoint reads them:
// the request line and the header fields, nothing past the blank line that
// ends them (a GET carries no body the server wants). Pure: the caller
// hands over the bytes received so far and gets a verdict, so the server's
// socket side holds no parsing and the parser is fuzzed on its own.
//
// Accepted: `method SP request-target SP HTTP-version CRLF` (RFC 9112 3),
// header fields `name ":" OWS value OWS CRLF` (RFC 9112 5, RFC 9110 5.6.2
// token names), a bare LF as a line end (RFC 9112 2.2 lets a recipient
// accept it), one empty line before the request line (RFC 9112 2.2).
// Refused as a bad request: no version 1.x, a name that is no
// token, whitespace before a field's colon (RFC 9112 5.1), an obsolete
// folded line (RFC 9112 5.2), a control byte in a value, an HTTP/1.1
// request without exactly one Host field (RFC 9112 3.2).
#pragma once

#include <cstddef>
#include <string_view>

#include "wire/bytes.hpp"

namespace rtether::wire {

enum class HttpParseStatus {
  Incomplete,  // no blank line yet, and nothing wrong so far: read on
  Complete,    // the head ends at `head_size`
  BadRequest,  // answer 400
  TooLarge,    // no end of head within the limit: answer 431 (RFC 6585 5)
};

struct HttpRequestHead {
  HttpParseStatus status = HttpParseStatus::Incomplete;
  // Views into the parsed bytes (valid while they are), set when Complete.
  std::string_view method;
  std::string_view target;  // as sent, query included
  std::string_view path;    // target up to '?'
  int minor_version = 0;    // HTTP/1.minor_version
  std::size_t head_size = 0;
};

// Parses the head at the start of `received`; a head that has not ended
// within `max_head_size` bytes is TooLarge.
HttpRequestHead parse_http_request(Bytes received, std::size_t max_head_size);

}  // namespace rtether::wire
