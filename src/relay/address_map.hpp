// Address mapping from what the device dials to what the relay dials.
// 10.0.2.2 is the host's own loopback, as in the Android emulator and
// Gnirehtet; fd00::2:2 is its IPv6 counterpart (::1). Everything else is
// dialled as is. The addresses are in wire/gnirehtet.hpp.
#pragma once

#include "wire/ip_address.hpp"

namespace rtether::relay {

wire::IpAddress host_destination(const wire::IpAddress& device_destination);

}  // namespace rtether::relay
