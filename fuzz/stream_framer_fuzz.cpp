// Fuzz target: the stream framer fed in read sizes taken from the input.
// The first bytes choose the read sizes; the rest is the stream. Every
// packet handed out must be exactly as long as its own length field says,
// the packets must reproduce the stream in order, and writable() must never
// be empty while the framer has not failed.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "wire/ip_packet.hpp"
#include "wire/stream_framer.hpp"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

constexpr std::size_t kReadSizeBytes = 8;  // one read-size selector per byte, cycled

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace wire = rtether::wire;
  if (size < kReadSizeBytes) return 0;
  const wire::Bytes selectors(data, kReadSizeBytes);
  wire::Bytes stream(data + kReadSizeBytes, size - kReadSizeBytes);
  const wire::Bytes whole = stream;

  wire::StreamFramer framer;
  std::size_t consumed = 0;  // bytes of `whole` handed out as packets
  std::size_t read = 0;
  while (!stream.empty()) {
    const wire::MutableBytes room = framer.writable();
    if (framer.failed()) {
      require(room.empty());
      break;
    }
    require(!room.empty());
    // Selector s reads 1..s*s+1 bytes: mostly small reads, some large.
    const std::size_t selector = selectors[read++ % selectors.size()];
    const std::size_t n = std::min({selector * selector + 1, room.size(), stream.size()});
    std::memcpy(room.data(), stream.data(), n);
    framer.commit(n);
    stream = stream.subspan(n);
    while (const auto packet = framer.next()) {
      const auto length = wire::ip_packet_length(*packet);
      require(length.error == wire::IpError::None && length.length == packet->size());
      require(std::memcmp(packet->data(), whole.data() + consumed, packet->size()) == 0);
      consumed += packet->size();
    }
  }
  if (!framer.failed()) require(consumed + framer.buffered() == whole.size());
  return 0;
}
