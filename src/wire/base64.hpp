// Base64 (RFC 4648 section 4, with "=" padding): the management protocol's
// binary payloads (the data of a >PK_SIGN request and the lines of the
// pk-sig answer, doc/management-notes.txt "COMMAND -- pk-sig") and the HTTP
// Basic credentials of a proxy CONNECT request (RFC 7617 2).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rtether::wire {

std::string base64_encode(std::span<const std::uint8_t> bytes);
std::string base64_encode(std::string_view text);

// nullopt for text that is not padded base64 (a length that is not a
// multiple of 4, a character outside the alphabet, padding in the middle,
// non-zero bits under the padding).
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text);

}  // namespace rtether::wire
