// Address mapping: see address_map.hpp.
#include "relay/address_map.hpp"

namespace rtether::relay {

namespace {
// fd00::2:2 and ::1 in network byte order.
constexpr std::array<std::uint8_t, 16> kHostLoopbackAliasV6 = {0xfd, 0, 0, 0, 0, 0, 0, 0,
                                                                0,    0, 0, 0, 0, 2, 0, 2};
constexpr std::array<std::uint8_t, 16> kLoopbackV6 = {0, 0, 0, 0, 0, 0, 0, 0,
                                                      0, 0, 0, 0, 0, 0, 0, 1};
}  // namespace

wire::IpAddress host_destination(const wire::IpAddress& device_destination) {
  if (device_destination.version == wire::IpVersion::V4) {
    if (device_destination.v4_host_order() == kHostLoopbackAliasV4)
      return wire::IpAddress::v4(kLoopbackV4);
    return device_destination;
  }
  if (device_destination.bytes == kHostLoopbackAliasV6)
    return wire::IpAddress::v6_from(kLoopbackV6.data());
  return device_destination;
}

}  // namespace rtether::relay
