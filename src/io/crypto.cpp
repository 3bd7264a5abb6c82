// The portable part of io/crypto.hpp.
#include "io/crypto.hpp"

namespace rtether::io {

bool equal_in_constant_time(wire::Bytes a, wire::Bytes b) {
  if (a.size() != b.size()) return false;
  std::uint8_t difference = 0;
  for (std::size_t i = 0; i < a.size(); ++i) difference |= a[i] ^ b[i];
  return difference == 0;
}

}  // namespace rtether::io
