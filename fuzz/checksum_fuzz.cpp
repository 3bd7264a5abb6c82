// Fuzz target: the fast internet checksum against the 16-bit reference on
// arbitrary data, and again at the alignment offset the first byte picks.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "wire/checksum.hpp"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace wire = rtether::wire;
  const wire::Bytes input(data, size);
  require(wire::internet_checksum(input) == wire::internet_checksum_reference(input));
  if (size < 1) return 0;

  // Copy at an offset of 0..7 so unaligned loads are exercised too.
  const std::size_t offset = data[0] & 7u;
  std::vector<std::uint8_t> storage(offset + size - 1);
  std::copy(data + 1, data + size, storage.begin() + static_cast<std::ptrdiff_t>(offset));
  const wire::Bytes packet(storage.data() + offset, size - 1);
  require(wire::internet_checksum(packet) == wire::internet_checksum_reference(packet));
  return 0;
}
