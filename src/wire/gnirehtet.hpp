// Gnirehtet's fixed values, named once for every layer: the relay port, the
// device's tun addresses, the host-loopback alias and the abstract socket
// the Android app connects to. The IPv4 values are Gnirehtet's own (its
// relay, its app's VpnService set-up and its README's `adb reverse` line);
// Gnirehtet has no IPv6, so the IPv6 counterparts are rtether's choice,
// from the unique local range fd00::/8 (RFC 4193).
#pragma once

#include <cstdint>

#include "wire/ip_address.hpp"

namespace rtether::wire::gnirehtet {

// The relay's TCP port (Gnirehtet's relay default, `-p`).
inline constexpr std::uint16_t kRelayPort = 31416;

// The abstract UNIX socket the app connects to on the device, which
// `adb reverse localabstract:gnirehtet tcp:PORT` carries to the relay.
inline constexpr const char* kAbstractSocketName = "gnirehtet";

// The device's tun addresses: 10.0.0.2/32 as Gnirehtet's VpnService sets
// it, and fd00::2/128 beside it.
inline constexpr IpAddress kDeviceAddressV4{IpVersion::V4, {10, 0, 0, 2}};
inline constexpr IpAddress kDeviceAddressV6{IpVersion::V6,
                                            {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}};

// What the device dials to reach the host's own loopback: 10.0.2.2, as in
// the Android emulator and Gnirehtet's relay, and fd00::2:2 beside it.
inline constexpr IpAddress kHostLoopbackAliasV4{IpVersion::V4, {10, 0, 2, 2}};
inline constexpr IpAddress kHostLoopbackAliasV6{
    IpVersion::V6, {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2}};

// The host loopback the aliases stand for (RFC 1122 3.2.1.3 (g), RFC 4291
// 2.5.3), which is also where the relay listens by default.
inline constexpr IpAddress kHostLoopbackV4{IpVersion::V4, {127, 0, 0, 1}};
inline constexpr IpAddress kHostLoopbackV6{IpVersion::V6,
                                           {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};

// The relay's own resolver as the device sees it: 10.0.2.3, the DNS address
// of the Android emulator and of slirp, and fd00::2:3 beside it. The relay
// answers DNS there itself (relay/dns_forwarder.hpp), over UDP and TCP.
inline constexpr IpAddress kResolverAliasV4{IpVersion::V4, {10, 0, 2, 3}};
inline constexpr IpAddress kResolverAliasV6{
    IpVersion::V6, {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 3}};
inline constexpr std::uint16_t kDnsPort = 53;  // RFC 1035 4.2

// The device's DNS server unless told otherwise (`-d`): the relay's
// resolver, which forwards to the host's own, instead of Gnirehtet's
// 8.8.8.8, which many networks block.
inline constexpr IpAddress kDefaultDnsServer = kResolverAliasV4;

}  // namespace rtether::wire::gnirehtet
