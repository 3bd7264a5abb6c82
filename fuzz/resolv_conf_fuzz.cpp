// Fuzz target: resolv.conf text. Any text gives at most three name servers,
// each an address whose printed form parses back to it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "wire/resolv_conf.hpp"

namespace {
void require(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace wire = rtether::wire;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto servers = wire::parse_resolv_conf(text);
  require(servers.size() <= wire::kResolvConfMaxServers);
  for (const auto& server : servers) {
    wire::IpAddress again;
    require(wire::IpAddress::parse(server.to_string(), again));
    require(again == server);
  }
  return 0;
}
