// IpPrefix and the address option parsers; see ip_prefix.hpp. The address
// syntax is IpAddress::parse's, so exactly what the C library and iproute2
// accept (no octal or shortened IPv4 forms).
#include "wire/ip_prefix.hpp"

#include <charconv>

namespace rtether::wire {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

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

template <typename Item, typename Parse>
std::optional<std::vector<Item>> parse_list(std::string_view text, std::string& error,
                                            Parse parse) {
  auto items = split_list(text, error);
  if (!items) return std::nullopt;
  std::vector<Item> parsed;
  for (auto item : *items) {
    auto value = parse(item, error);
    if (!value) return std::nullopt;
    parsed.push_back(*value);
  }
  return parsed;
}

}  // namespace

int max_prefix_length(IpVersion version) { return version == IpVersion::V4 ? 32 : 128; }

std::optional<IpAddress> parse_address(std::string_view text, std::string& error) {
  std::string copy(trim(text));
  IpAddress address;
  if (IpAddress::parse(copy, address)) return address;
  error = "'" + copy + "' is not an IPv4 or IPv6 address";
  return std::nullopt;
}

std::optional<IpPrefix> parse_prefix(std::string_view text, std::string& error) {
  text = trim(text);
  auto slash = text.find('/');
  auto address = parse_address(text.substr(0, slash), error);
  if (!address) return std::nullopt;
  int max_length = max_prefix_length(address->version);
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
  return parse_list<IpPrefix>(text, error, parse_prefix);
}

std::optional<std::vector<IpAddress>> parse_address_list(std::string_view text,
                                                         std::string& error) {
  return parse_list<IpAddress>(text, error, parse_address);
}

IpPrefix IpPrefix::network() const {
  IpPrefix masked = *this;
  int total_bits = static_cast<int>(address.size()) * 8;
  for (int bit = length; bit < total_bits; ++bit) {
    masked.address.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  }
  return masked;
}

bool IpPrefix::contains(const IpAddress& other) const {
  if (other.version != address.version) return false;
  return IpPrefix{other, length}.network() == network();
}

std::string IpPrefix::to_string() const {
  return address.to_string() + "/" + std::to_string(length);
}

}  // namespace rtether::wire
