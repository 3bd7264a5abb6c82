// Address mapping from what the device dials to what the relay dials.
// 10.0.2.2 is the host's own loopback, as in the Android emulator and
// Gnirehtet; fd00::2:2 is its IPv6 counterpart (::1). Everything else is
// dialled as is.
#pragma once

#include "wire/ip_address.hpp"

namespace rtether::relay {

constexpr std::uint32_t kHostLoopbackAliasV4 = 0x0A000202;  // 10.0.2.2
constexpr std::uint32_t kLoopbackV4 = 0x7F000001;           // 127.0.0.1

wire::IpAddress host_destination(const wire::IpAddress& device_destination);

}  // namespace rtether::relay
