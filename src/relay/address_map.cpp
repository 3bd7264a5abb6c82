// Address mapping: see address_map.hpp.
#include "relay/address_map.hpp"

#include <algorithm>

#include "wire/gnirehtet.hpp"

namespace rtether::relay {

namespace {

// The IPv4 address an IPv6 socket dials for ::ffff:a.b.c.d (RFC 4291
// 2.5.5.2), or the address itself.
wire::IpAddress as_dialled(const wire::IpAddress& address) {
  if (address.version != wire::IpVersion::V6) return address;
  static constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (!std::equal(std::begin(kMappedPrefix), std::end(kMappedPrefix), address.bytes.begin()))
    return address;
  return wire::IpAddress::v4_from(address.bytes.data() + 12);
}

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

bool is_loopback(const wire::IpAddress& address) {
  const wire::IpAddress dialled = as_dialled(address);
  if (dialled.version == wire::IpVersion::V4) return dialled.bytes[0] == 127;
  return dialled == wire::gnirehtet::kHostLoopbackV6;
}

bool reaches_host_loopback(const wire::IpAddress& device_destination) {
  if (device_destination == wire::gnirehtet::kHostLoopbackAliasV4 ||
      device_destination == wire::gnirehtet::kHostLoopbackAliasV6)
    return true;
  return is_loopback(device_destination) || is_this_host(as_dialled(device_destination));
}

}  // namespace rtether::relay
