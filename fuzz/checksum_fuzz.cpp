// Fuzz target: the fast internet checksum against the 16-bit reference on
// arbitrary data and alignment, and RFC 1624 incremental updates against
// recomputation. The first byte picks the alignment offset and the word to
// change; the next four bytes are the new value.
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
  if (size < 1 + 4) return 0;

  const std::uint8_t control = data[0];
  const std::uint32_t new_value = wire::load_be32(data + 1);
  // Copy at an offset of 0..7 so unaligned loads are exercised too.
  const std::size_t offset = control & 7u;
  std::vector<std::uint8_t> storage(offset + size - 5);
  std::copy(data + 5, data + size, storage.begin() + static_cast<std::ptrdiff_t>(offset));
  const wire::MutableBytes packet(storage.data() + offset, size - 5);
  require(wire::internet_checksum(packet) == wire::internet_checksum_reference(packet));
  if (packet.size() < 4) return 0;

  const std::size_t words = packet.size() / 4;
  const std::size_t at = 4 * ((control >> 3) % words);
  const std::uint16_t before = wire::internet_checksum(packet);
  const std::uint32_t old_value = wire::load_be32(packet.data() + at);

  // RFC 1624 eqn. 3 equals recomputation unless the data sums to zero
  // everywhere after the change, where recomputation gives 0xFFFF and the
  // update the equivalent 0x0000 (both are zero in one's complement).
  auto equivalent = [](std::uint16_t a, std::uint16_t b) {
    return a == b || (a == 0 && b == 0xFFFF) || (a == 0xFFFF && b == 0);
  };
  const auto new_high = static_cast<std::uint16_t>(new_value >> 16);
  wire::store_be16(packet.data() + at, new_high);
  const std::uint16_t after16 =
      wire::checksum_update16(before, static_cast<std::uint16_t>(old_value >> 16), new_high);
  require(equivalent(after16, wire::internet_checksum(packet)));

  wire::store_be32(packet.data() + at, new_value);
  const std::uint16_t after32 = wire::checksum_update32(before, old_value, new_value);
  require(equivalent(after32, wire::internet_checksum(packet)));
  return 0;
}
