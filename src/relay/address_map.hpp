// Address mapping from what the device dials to what the relay dials.
// 10.0.2.2 is the host's own loopback, as in the Android emulator and
// Gnirehtet; fd00::2:2 is its IPv6 counterpart (::1). Everything else is
// dialled as is. The addresses are in wire/gnirehtet.hpp.
//
// Host loopback (`--no-host-loopback` turns it off): a device reaches the
// host's loopback services through the aliases, but also by dialling a
// loopback address itself (wire::is_loopback: 127.0.0.0/8, ::1, their
// IPv4-mapped forms) or an address Linux connects to the local host
// (0.0.0.0/8, ::). All of them are the same hole, so reaches_host_loopback()
// names every one.
#pragma once

#include "wire/ip_address.hpp"

namespace rtether::relay {

wire::IpAddress host_destination(const wire::IpAddress& device_destination);

// Whether dialling `device_destination` reaches the host itself through its
// loopback: the aliases, a loopback address, or "this host" (0.0.0.0/8,
// RFC 1122 3.2.1.3 (a), and ::, with their mapped forms), which Linux
// connects to the local host.
bool reaches_host_loopback(const wire::IpAddress& device_destination);

}  // namespace rtether::relay
