// Fuzz target: --forward values. Any text either parses into a rule whose
// printed form parses back to the same rule, or fails with a message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "relay/forward_rule.hpp"

namespace {
void require(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace relay = rtether::relay;
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto rule = relay::parse_forward_rule(text, error);
  if (!rule) {
    require(!error.empty());
    return 0;
  }
  require(rule->listen.port != 0 && rule->device_port != 0);
  std::string again_error;
  auto again = relay::parse_forward_rule(rule->to_string(), again_error);
  require(again.has_value());
  require(again->protocol == rule->protocol && again->listen.address == rule->listen.address &&
          again->listen.port == rule->listen.port && again->device_port == rule->device_port &&
          again->client_id == rule->client_id);
  return 0;
}
