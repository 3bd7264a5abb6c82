// Address mapping: see address_map.hpp.
#include "relay/address_map.hpp"

#include <algorithm>

#include "wire/gnirehtet.hpp"

namespace rtether::relay {

namespace {

bool is_this_host(const wire::IpAddress& address) {
  if (address.version == wire::IpVersion::V4) return address.bytes[0] == 0;
  return std::all_of(address.bytes.begin(), address.bytes.end(),
                     [](std::uint8_t byte) { return byte == 0; });
}

}  // namespace

wire::IpAddress host_destination(const wire::IpAddress& device_destination) {
  if (device_destination == wire::gnirehtet::kHostLoopbackAliasV4)
    return wire::gnirehtet::kHostLoopbackV4;
  if (device_destination == wire::gnirehtet::kHostLoopbackAliasV6)
    return wire::gnirehtet::kHostLoopbackV6;
  return device_destination;
}

bool reaches_host_loopback(const wire::IpAddress& device_destination) {
  if (device_destination == wire::gnirehtet::kHostLoopbackAliasV4 ||
      device_destination == wire::gnirehtet::kHostLoopbackAliasV6)
    return true;
  return wire::is_loopback(device_destination) ||
         is_this_host(wire::unmapped(device_destination));
}

}  // namespace rtether::relay
