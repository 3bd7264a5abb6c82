// DNS messages for tests, built field by field (RFC 1035 4.1): a header and
// one question, with the name given as dotted text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rtether::wire::testing {

inline constexpr std::uint16_t kTypeA = 1;
inline constexpr std::uint16_t kClassIn = 1;
inline constexpr std::uint16_t kFlagResponse = 0x8000;
inline constexpr std::uint16_t kFlagRecursionDesired = 0x0100;

inline void append16(std::vector<std::uint8_t>& out, std::uint16_t value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value));
}

// "only.test" -> 4 o n l y 4 t e s t 0.
inline void append_name(std::vector<std::uint8_t>& out, const std::string& name) {
  std::size_t start = 0;
  while (start < name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    out.push_back(static_cast<std::uint8_t>(dot - start));
    out.insert(out.end(), name.begin() + static_cast<long>(start),
               name.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  out.push_back(0);
}

inline std::vector<std::uint8_t> dns_message(std::uint16_t id, std::uint16_t flags,
                                             const std::string& name, std::uint16_t answers = 0) {
  std::vector<std::uint8_t> out;
  append16(out, id);
  append16(out, flags);
  append16(out, 1);  // QDCOUNT
  append16(out, answers);
  append16(out, 0);
  append16(out, 0);
  append_name(out, name);
  append16(out, kTypeA);
  append16(out, kClassIn);
  return out;
}

inline std::vector<std::uint8_t> dns_query(std::uint16_t id, const std::string& name) {
  return dns_message(id, kFlagRecursionDesired, name);
}

// An answer to `query` as an upstream gives it: the header's ID and flags,
// the question, one A record (a compression pointer to the question's name).
inline std::vector<std::uint8_t> dns_answer(const std::vector<std::uint8_t>& query,
                                            std::uint16_t id, std::uint32_t address) {
  std::vector<std::uint8_t> out = query;
  out[0] = static_cast<std::uint8_t>(id >> 8);
  out[1] = static_cast<std::uint8_t>(id);
  out[2] |= 0x80;         // QR
  out[7] = 1;             // ANCOUNT
  append16(out, 0xC00C);  // the name at offset 12
  append16(out, kTypeA);
  append16(out, kClassIn);
  append16(out, 0);
  append16(out, 60);  // TTL
  append16(out, 4);
  append16(out, static_cast<std::uint16_t>(address >> 16));
  append16(out, static_cast<std::uint16_t>(address));
  return out;
}

}  // namespace rtether::wire::testing
