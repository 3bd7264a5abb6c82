// Address mapping: see address_map.hpp.
#include "relay/address_map.hpp"

#include "wire/gnirehtet.hpp"

namespace rtether::relay {

wire::IpAddress host_destination(const wire::IpAddress& device_destination) {
  if (device_destination == wire::gnirehtet::kHostLoopbackAliasV4)
    return wire::gnirehtet::kHostLoopbackV4;
  if (device_destination == wire::gnirehtet::kHostLoopbackAliasV6)
    return wire::gnirehtet::kHostLoopbackV6;
  return device_destination;
}

}  // namespace rtether::relay
