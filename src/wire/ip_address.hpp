// IpAddress: an IPv4 or IPv6 address as 16 bytes plus a version, cheap to
// copy, hash and compare. IPv4 addresses use the first 4 bytes, rest zero.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <optional>
#include <string_view>

#include "wire/bytes.hpp"

namespace rtether::wire {

enum class IpVersion : std::uint8_t { V4 = 4, V6 = 6 };

struct IpAddress {
  IpVersion version = IpVersion::V4;
  std::array<std::uint8_t, 16> bytes{};

  static IpAddress v4(std::uint32_t host_order) {
    IpAddress a;
    store_be32(a.bytes.data(), host_order);
    return a;
  }
  static IpAddress v4_from(const std::uint8_t* p) {
    IpAddress a;
    std::memcpy(a.bytes.data(), p, 4);
    return a;
  }
  static IpAddress v6_from(const std::uint8_t* p) {
    IpAddress a;
    a.version = IpVersion::V6;
    std::memcpy(a.bytes.data(), p, 16);
    return a;
  }
  // Parses dotted-quad or RFC 4291 text; false on bad input.
  static bool parse(const std::string& text, IpAddress& out);

  std::size_t size() const { return version == IpVersion::V4 ? 4 : 16; }
  std::uint32_t v4_host_order() const { return load_be32(bytes.data()); }
  std::string to_string() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// The IPv4 address an IPv6 socket dials for ::ffff:a.b.c.d (RFC 4291
// 2.5.5.2), or the address itself.
IpAddress unmapped(const IpAddress& address);

// 127.0.0.0/8 (RFC 1122 3.2.1.3 (g)), ::1 (RFC 4291 2.5.3) and
// ::ffff:127.0.0.0/104 (RFC 4291 2.5.5.2, which an IPv6 socket dials as
// IPv4): an address only this host can reach.
bool is_loopback(const IpAddress& address);

// A port number as text: decimal digits only, 1-65535.
std::optional<std::uint16_t> parse_port(std::string_view text);

}  // namespace rtether::wire
