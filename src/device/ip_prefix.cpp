// Address and prefix parsing for the client options; see ip_prefix.hpp.
// inet_pton does the address syntax so we accept exactly what the C library
// and iproute2 accept (no octal or shortened IPv4 forms).
#include "device/ip_prefix.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace rtether::device {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Splits on commas; an empty item (",," or a trailing comma) is an error.
std::optional<std::vector<std::string_view>> split_list(std::string_view text,
                                                        std::string& error) {
  std::vector<std::string_view> items;
  for (;;) {
    auto comma = text.find(',');
    auto item = trim(text.substr(0, comma));
    if (item.empty()) {
      error = "empty item in list";
      return std::nullopt;
    }
    items.push_back(item);
    if (comma == std::string_view::npos) return items;
    text.remove_prefix(comma + 1);
  }
}

}  // namespace

std::optional<wire::IpAddress> parse_address(std::string_view text, std::string& error) {
  std::string copy(trim(text));
  wire::IpAddress address;
  if (inet_pton(AF_INET, copy.c_str(), address.bytes.data()) == 1) return address;
  if (inet_pton(AF_INET6, copy.c_str(), address.bytes.data()) == 1) {
    address.version = wire::IpVersion::V6;
    return address;
  }
  error = "'" + copy + "' is not an IPv4 or IPv6 address";
  return std::nullopt;
}

std::optional<IpPrefix> parse_prefix(std::string_view text, std::string& error) {
  text = trim(text);
  auto slash = text.find('/');
  auto address = parse_address(text.substr(0, slash), error);
  if (!address) return std::nullopt;
  int max_length = address->version == wire::IpVersion::V4 ? 32 : 128;
  if (slash == std::string_view::npos) return IpPrefix{*address, max_length};
  auto digits = text.substr(slash + 1);
  int length = -1;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || length < 0 ||
      length > max_length) {
    error = "bad prefix length in '" + std::string(text) + "' (expected 0-" +
            std::to_string(max_length) + ")";
    return std::nullopt;
  }
  return IpPrefix{*address, length};
}

std::optional<std::vector<IpPrefix>> parse_prefix_list(std::string_view text,
                                                       std::string& error) {
  auto items = split_list(text, error);
  if (!items) return std::nullopt;
  std::vector<IpPrefix> prefixes;
  for (auto item : *items) {
    auto prefix = parse_prefix(item, error);
    if (!prefix) return std::nullopt;
    prefixes.push_back(*prefix);
  }
  return prefixes;
}

std::optional<std::vector<wire::IpAddress>> parse_address_list(std::string_view text,
                                                               std::string& error) {
  auto items = split_list(text, error);
  if (!items) return std::nullopt;
  std::vector<wire::IpAddress> addresses;
  for (auto item : *items) {
    auto address = parse_address(item, error);
    if (!address) return std::nullopt;
    addresses.push_back(*address);
  }
  return addresses;
}

IpPrefix IpPrefix::network() const {
  IpPrefix masked = *this;
  int total_bits = static_cast<int>(address.size()) * 8;
  for (int bit = length; bit < total_bits; ++bit) {
    masked.address.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  }
  return masked;
}

std::string IpPrefix::to_string() const {
  return format_address(address) + "/" + std::to_string(length);
}

std::string format_address(const wire::IpAddress& address) {
  char text[INET6_ADDRSTRLEN] = {};
  int family = address.version == wire::IpVersion::V4 ? AF_INET : AF_INET6;
  inet_ntop(family, address.bytes.data(), text, sizeof text);
  return text;
}

}  // namespace rtether::device
