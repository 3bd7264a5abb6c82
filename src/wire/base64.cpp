// base64_encode: see base64.hpp.
#include "wire/base64.hpp"

#include <cstdint>

namespace rtether::wire {

std::string base64_encode(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t at = 0;
  // Each 3 input bytes are 4 characters of 6 bits, most significant first.
  for (; at + 3 <= data.size(); at += 3) {
    const std::uint32_t group = (std::uint32_t{static_cast<std::uint8_t>(data[at])} << 16) |
                                (std::uint32_t{static_cast<std::uint8_t>(data[at + 1])} << 8) |
                                std::uint32_t{static_cast<std::uint8_t>(data[at + 2])};
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(group >> shift) & 0x3f];
  }
  const std::size_t left = data.size() - at;
  if (left > 0) {
    std::uint32_t group = std::uint32_t{static_cast<std::uint8_t>(data[at])} << 16;
    if (left == 2) group |= std::uint32_t{static_cast<std::uint8_t>(data[at + 1])} << 8;
    out += kAlphabet[(group >> 18) & 0x3f];
    out += kAlphabet[(group >> 12) & 0x3f];
    out += left == 2 ? kAlphabet[(group >> 6) & 0x3f] : '=';
    out += '=';
  }
  return out;
}

}  // namespace rtether::wire
