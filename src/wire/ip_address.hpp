// IpAddress: an IPv4 or IPv6 address as 16 bytes plus a version, cheap to
// copy, hash and compare. IPv4 addresses use the first 4 bytes, rest zero.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>

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

}  // namespace rtether::wire
