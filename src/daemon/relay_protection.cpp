// The PROTECTFD decision; see relay_protection.hpp.
#include "daemon/relay_protection.hpp"

#include <cstdint>

#include "wire/ip_prefix.hpp"

namespace rtether::daemon {
namespace {

constexpr std::uint8_t kIpv6Loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
// ::ffff:127.0.0.0
constexpr std::uint8_t kMappedIpv4Loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                                  0, 0, 0xff, 0xff, 127, 0, 0, 0};

// 127.0.0.0/8 (RFC 1122 3.2.1.3), ::1 (RFC 4291 2.5.3), and IPv4 loopback
// mapped into IPv6 (RFC 4291 2.5.5.2), which a dual-stack socket may use.
const wire::IpPrefix kLoopback[] = {
    {wire::IpAddress::v4(0x7f000000), 8},
    {wire::IpAddress::v6_from(kIpv6Loopback), 128},
    {wire::IpAddress::v6_from(kMappedIpv4Loopback), 104},
};

}  // namespace

bool needs_protection(const std::optional<wire::IpAddress>& destination) {
  if (!destination) return false;
  for (const auto& prefix : kLoopback) {
    if (prefix.contains(*destination)) return false;
  }
  return true;
}

}  // namespace rtether::daemon
