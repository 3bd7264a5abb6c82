// FlowKey text form for logs: "tcp 10.0.0.2:40000 -> 93.184.216.34:80".
#include "relay/flow_key.hpp"

#include <fmt/core.h>

#include "wire/ip_packet.hpp"

namespace rtether::relay {

std::string FlowKey::to_string() const {
  const char* name = protocol == wire::ip_protocol::kTcp   ? "tcp"
                     : protocol == wire::ip_protocol::kUdp ? "udp"
                                                           : "ip";
  bool v6 = source.version == wire::IpVersion::V6;
  if (v6)
    return fmt::format("{} [{}]:{} -> [{}]:{}", name, source.to_string(), source_port,
                       destination.to_string(), destination_port);
  return fmt::format("{} {}:{} -> {}:{}", name, source.to_string(), source_port,
                     destination.to_string(), destination_port);
}

}  // namespace rtether::relay
