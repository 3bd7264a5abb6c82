// Test helpers that lay out IPv4/IPv6 headers field by field, including
// values the production builders never produce (bad IHL, wrong lengths,
// extension header chains), so parser tests need no hex blobs.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "wire/bytes.hpp"
#include "wire/ip_address.hpp"

namespace rtether::wire::test {

using ByteVector = std::vector<std::uint8_t>;

inline IpAddress address(const std::string& text) {
  IpAddress parsed;
  IpAddress::parse(text, parsed);
  return parsed;
}

struct RawIpv4 {
  std::uint8_t ihl = 5;                        // header length in 32-bit words
  std::optional<std::uint16_t> total_length;   // default: header + options + payload
  std::uint16_t flags_fragment = 0x4000;       // DF
  std::uint8_t ttl = 64;
  std::uint8_t protocol = 17;
  IpAddress source = address("192.0.2.1");
  IpAddress destination = address("198.51.100.7");
  ByteVector options;  // written after the 20 fixed bytes
  ByteVector payload;
};

// Copies `part` into `out` at `at` and returns the offset after it; an
// empty part is not copied at all (GCC 12 for mingw-w64 warns
// -Warray-bounds, a false positive, about copying nothing to the end).
inline std::size_t put(ByteVector& out, std::size_t at, const ByteVector& part) {
  if (!part.empty()) std::copy(part.begin(), part.end(), out.begin() + static_cast<long>(at));
  return at + part.size();
}

inline ByteVector build(const RawIpv4& raw) {
  ByteVector out(20 + raw.options.size() + raw.payload.size());
  out[0] = static_cast<std::uint8_t>(0x40 | (raw.ihl & 0x0F));
  const auto length = raw.total_length.value_or(
      static_cast<std::uint16_t>(20 + raw.options.size() + raw.payload.size()));
  store_be16(&out[2], length);
  store_be16(&out[6], raw.flags_fragment);
  out[8] = raw.ttl;
  out[9] = raw.protocol;
  std::copy_n(raw.source.bytes.begin(), 4, out.begin() + 12);
  std::copy_n(raw.destination.bytes.begin(), 4, out.begin() + 16);
  put(out, put(out, 20, raw.options), raw.payload);
  return out;
}

struct RawIpv6 {
  std::optional<std::uint16_t> payload_length;  // default: extensions + payload
  std::uint8_t next_header = 17;
  std::uint8_t hop_limit = 64;
  IpAddress source = address("2001:db8::1");
  IpAddress destination = address("2001:db8::2");
  ByteVector extensions;  // already-encoded extension headers
  ByteVector payload;
};

inline ByteVector build(const RawIpv6& raw) {
  ByteVector out(40 + raw.extensions.size() + raw.payload.size());
  out[0] = 0x60;
  const auto length = raw.payload_length.value_or(
      static_cast<std::uint16_t>(raw.extensions.size() + raw.payload.size()));
  store_be16(&out[4], length);
  out[6] = raw.next_header;
  out[7] = raw.hop_limit;
  std::copy_n(raw.source.bytes.begin(), 16, out.begin() + 8);
  std::copy_n(raw.destination.bytes.begin(), 16, out.begin() + 24);
  put(out, put(out, 40, raw.extensions), raw.payload);
  return out;
}

// Hop-by-hop, routing or destination options header of (units + 1) * 8
// bytes (RFC 8200 section 4.3), filled with PadN-style zeros.
inline ByteVector options_extension(std::uint8_t next_header, std::uint8_t units) {
  ByteVector out((units + 1u) * 8u, 0);
  out[0] = next_header;
  out[1] = units;
  return out;
}

// Fragment header (RFC 8200 section 4.5); offset in 8-byte units.
inline ByteVector fragment_extension(std::uint8_t next_header, std::uint16_t offset,
                                     bool more_fragments) {
  ByteVector out(8, 0);
  out[0] = next_header;
  store_be16(&out[2], static_cast<std::uint16_t>((offset << 3) | (more_fragments ? 1 : 0)));
  store_be32(&out[4], 0x12345678);  // identification
  return out;
}

// Authentication header (RFC 4302 section 2.2): (payload_len + 2) * 4 bytes.
inline ByteVector auth_extension(std::uint8_t next_header, std::uint8_t payload_len) {
  ByteVector out((payload_len + 2u) * 4u, 0);
  out[0] = next_header;
  out[1] = payload_len;
  return out;
}

inline ByteVector concat(std::initializer_list<ByteVector> parts) {
  ByteVector out;
  for (const auto& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

// Pseudo header (RFC 9293 section 3.1 / RFC 8200 section 8.1) followed by the
// segment, laid out byte by byte so checksum tests do not reuse the
// builder's own arithmetic.
inline ByteVector with_pseudo_header(const IpAddress& source, const IpAddress& destination,
                                     std::uint8_t protocol, Bytes segment) {
  ByteVector out(source.bytes.begin(), source.bytes.begin() + source.size());
  out.insert(out.end(), destination.bytes.begin(), destination.bytes.begin() + destination.size());
  if (source.version == IpVersion::V4) {
    out.push_back(0);
    out.push_back(protocol);
    out.push_back(static_cast<std::uint8_t>(segment.size() >> 8));
    out.push_back(static_cast<std::uint8_t>(segment.size()));
  } else {
    std::uint8_t length[4];
    store_be32(length, static_cast<std::uint32_t>(segment.size()));
    out.insert(out.end(), length, length + 4);
    out.insert(out.end(), {0, 0, 0, protocol});
  }
  out.insert(out.end(), segment.begin(), segment.end());
  return out;
}

}  // namespace rtether::wire::test
