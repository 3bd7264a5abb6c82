// Text form of IpAddress, written here rather than taken from inet_pton and
// inet_ntop so that wire/ needs no OS header.
//
// Parsing accepts what inet_pton accepts: IPv4 as exactly four decimal
// octets without leading zeros; IPv6 as RFC 4291 section 2.2 writes it (one
// to four hex digits per group, one "::" standing for at least one zero
// group, an IPv4 dotted quad as the last 32 bits), no zone index.
// Formatting is RFC 5952 section 4 (see to_string_v6).
#include "wire/ip_address.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string_view>

namespace rtether::wire {
namespace {

constexpr std::size_t kV4Octets = 4;
constexpr std::size_t kV6Groups = 8;
constexpr std::size_t kMaxGroupDigits = 4;  // RFC 4291 2.2: one to four hex digits
constexpr unsigned kMaxOctet = 255;
// RFC 4291 2.5.5.2: ::ffff:0:0/96 holds an IPv4 address in its last 32 bits.
constexpr std::size_t kMappedPrefixZeros = 10;
constexpr std::size_t kMappedEmbeddedV4 = 12;

std::optional<unsigned> hex_value(char c) {
  if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<unsigned>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<unsigned>(c - 'A' + 10);
  return std::nullopt;
}

// Four decimal octets, each 0..255 without a leading zero (as inet_pton).
bool parse_v4(std::string_view text, std::uint8_t* out) {
  std::size_t octet = 0;
  std::size_t i = 0;
  while (true) {
    const std::size_t start = i;
    unsigned value = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (i > start && text[start] == '0') return false;  // leading zero
      value = value * 10 + static_cast<unsigned>(text[i] - '0');
      if (value > kMaxOctet) return false;
      ++i;
    }
    if (i == start) return false;
    out[octet++] = static_cast<std::uint8_t>(value);
    if (octet == kV4Octets) return i == text.size();
    if (i == text.size() || text[i] != '.') return false;
    ++i;
  }
}

// One group of 1..4 hex digits, the whole of `text`.
std::optional<std::uint16_t> parse_group(std::string_view text) {
  if (text.empty() || text.size() > kMaxGroupDigits) return std::nullopt;
  unsigned value = 0;
  for (char c : text) {
    const auto digit = hex_value(c);
    if (!digit) return std::nullopt;
    value = value * 16 + *digit;
  }
  return static_cast<std::uint16_t>(value);
}

bool parse_v6(std::string_view text, std::uint8_t* out) {
  std::array<std::uint16_t, kV6Groups> groups{};
  std::size_t count = 0;
  std::optional<std::size_t> gap;  // groups written before the "::"
  std::size_t i = 0;
  if (text.starts_with("::")) {
    gap = 0;
    i = 2;
  } else if (text.starts_with(':')) {
    return false;
  }
  while (i < text.size()) {
    const std::size_t end = std::min(text.find(':', i), text.size());
    const std::string_view piece = text.substr(i, end - i);
    if (piece.find('.') != std::string_view::npos) {
      // A dotted quad only as the last 32 bits.
      std::uint8_t v4[kV4Octets];
      if (end != text.size() || count + 2 > kV6Groups || !parse_v4(piece, v4)) return false;
      groups[count++] = load_be16(v4);
      groups[count++] = load_be16(v4 + 2);
      break;
    }
    const auto group = parse_group(piece);
    if (!group || count == kV6Groups) return false;
    groups[count++] = *group;
    if (end == text.size()) break;
    i = end + 1;
    if (i == text.size()) return false;  // a single trailing colon
    if (text[i] == ':') {
      if (gap) return false;  // a second "::"
      gap = count;
      ++i;
    }
  }
  if (gap) {
    if (count == kV6Groups) return false;  // "::" must stand for at least one group
    std::copy_backward(groups.begin() + static_cast<long>(*gap),
                       groups.begin() + static_cast<long>(count), groups.end());
    std::fill_n(groups.begin() + static_cast<long>(*gap), kV6Groups - count, 0);
  } else if (count != kV6Groups) {
    return false;
  }
  for (std::size_t g = 0; g < kV6Groups; ++g) store_be16(out + 2 * g, groups[g]);
  return true;
}

void append_v4(std::string& text, const std::uint8_t* octets) {
  for (std::size_t i = 0; i < kV4Octets; ++i) {
    if (i > 0) text += '.';
    text += std::to_string(octets[i]);
  }
}

void append_group(std::string& text, std::uint16_t group) {
  // RFC 5952 4.1: no leading zeros; 4.3: lowercase.
  constexpr char kDigits[] = "0123456789abcdef";
  bool started = false;
  for (int shift = 12; shift >= 0; shift -= 4) {
    const unsigned digit = (group >> shift) & 0xFu;
    if (digit == 0 && !started && shift > 0) continue;
    started = true;
    text += kDigits[digit];
  }
}

// RFC 5952 section 4: leading zeros dropped (4.1), "::" replaces the longest
// run of zero groups (4.2.1), never a single one (4.2.2), the first of equal
// runs (4.2.3), lowercase (4.3); section 5: an IPv4-mapped address ends in
// its dotted quad.
std::string to_string_v6(const std::array<std::uint8_t, 16>& bytes) {
  std::string text;
  const bool mapped =
      std::all_of(bytes.begin(), bytes.begin() + kMappedPrefixZeros,
                  [](std::uint8_t b) { return b == 0; }) &&
      load_be16(bytes.data() + kMappedPrefixZeros) == 0xFFFF;
  if (mapped) {
    text = "::ffff:";
    append_v4(text, bytes.data() + kMappedEmbeddedV4);
    return text;
  }
  std::array<std::uint16_t, kV6Groups> groups{};
  for (std::size_t g = 0; g < kV6Groups; ++g) groups[g] = load_be16(bytes.data() + 2 * g);

  std::size_t best_start = kV6Groups;
  std::size_t best_length = 1;  // a run must be longer than this to be compressed
  for (std::size_t g = 0; g < kV6Groups;) {
    if (groups[g] != 0) {
      ++g;
      continue;
    }
    const std::size_t start = g;
    while (g < kV6Groups && groups[g] == 0) ++g;
    if (g - start > best_length) {
      best_start = start;
      best_length = g - start;
    }
  }

  for (std::size_t g = 0; g < kV6Groups; ++g) {
    if (g == best_start) {
      text += "::";
      g += best_length - 1;
      continue;
    }
    if (g > 0 && g != best_start + best_length) text += ':';
    append_group(text, groups[g]);
  }
  return text;
}

}  // namespace

bool IpAddress::parse(const std::string& text, IpAddress& out) {
  IpAddress parsed;
  if (parse_v4(text, parsed.bytes.data())) {
    out = parsed;
    return true;
  }
  parsed.version = IpVersion::V6;
  if (parse_v6(text, parsed.bytes.data())) {
    out = parsed;
    return true;
  }
  return false;
}

std::string IpAddress::to_string() const {
  if (version == IpVersion::V6) return to_string_v6(bytes);
  std::string text;
  append_v4(text, bytes.data());
  return text;
}

IpAddress unmapped(const IpAddress& address) {
  if (address.version != IpVersion::V6) return address;
  const bool mapped =
      std::all_of(address.bytes.begin(), address.bytes.begin() + kMappedPrefixZeros,
                  [](std::uint8_t byte) { return byte == 0; }) &&
      address.bytes[kMappedPrefixZeros] == 0xff && address.bytes[kMappedPrefixZeros + 1] == 0xff;
  return mapped ? IpAddress::v4_from(address.bytes.data() + kMappedEmbeddedV4) : address;
}

bool is_loopback(const IpAddress& address) {
  const IpAddress dialled = unmapped(address);
  if (dialled.version == IpVersion::V4) return dialled.bytes[0] == 127;
  return std::all_of(dialled.bytes.begin(), dialled.bytes.end() - 1,
                     [](std::uint8_t byte) { return byte == 0; }) &&
         dialled.bytes.back() == 1;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  // Digits only: no sign, no spaces, and at most 5 of them (leading zeros
  // included), so the value cannot overflow.
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

}  // namespace rtether::wire
