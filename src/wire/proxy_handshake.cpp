// ProxyHandshake: see proxy_handshake.hpp.
#include "wire/proxy_handshake.hpp"

#include <algorithm>

namespace rtether::wire {

std::string_view to_string(ProxyError error) {
  switch (error) {
    case ProxyError::None:
      return "none";
    case ProxyError::Malformed:
      return "malformed answer";
    case ProxyError::AuthRequired:
      return "authentication required";
    case ProxyError::AuthFailed:
      return "authentication failed";
    case ProxyError::NotAllowed:
      return "not allowed by the proxy's rules";
    case ProxyError::TargetRefused:
      return "target refused or unreachable";
    case ProxyError::Unsupported:
      return "not supported by the proxy";
    case ProxyError::Failed:
      return "failed";
  }
  return "failed";
}

void ProxyHandshake::output_sent(std::size_t bytes) {
  output_sent_ = std::min(output_.size(), output_sent_ + bytes);
  if (output_sent_ == output_.size()) {
    output_.clear();
    output_sent_ = 0;
  }
}

void ProxyHandshake::queue(Bytes bytes) {
  output_.insert(output_.end(), bytes.begin(), bytes.end());
}

std::size_t ProxyHandshake::fail(ProxyError error) {
  state_ = State::Failed;
  error_ = error;
  output_.clear();
  output_sent_ = 0;
  return 0;
}

}  // namespace rtether::wire
