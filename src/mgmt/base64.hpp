// Base64 (RFC 4648 section 4, with "=" padding) for the management
// protocol's binary payloads: the data of a >PK_SIGN request and the lines
// of the pk-sig answer (doc/management-notes.txt, "COMMAND -- pk-sig").
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rtether::mgmt {

std::string base64_encode(std::span<const std::uint8_t> bytes);

// nullopt for text that is not padded base64 (a length that is not a
// multiple of 4, a character outside the alphabet, padding in the middle,
// non-zero bits under the padding).
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text);

}  // namespace rtether::mgmt
