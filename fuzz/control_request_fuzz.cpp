// Fuzz target: control socket request lines. Any bytes either parse into a
// request whose formatted line parses back to the same request, or are
// refused with a message; the error reply built from that message is
// itself a reply line the client reads as a refusal.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "control/control_protocol.hpp"

namespace {
void require(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace control = rtether::control;
  const std::string line(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto request = control::parse_request(line, error);
  if (!request) {
    require(!error.empty());
    std::string reply_error;
    require(!control::parse_reply(control::error_reply(error), reply_error));
    require(reply_error == error);
    return 0;
  }
  std::string again_error;
  auto again = control::parse_request(control::format_request(*request), again_error);
  require(again.has_value());
  require(again->command == request->command &&
          again->rule.to_string() == request->rule.to_string());
  return 0;
}
