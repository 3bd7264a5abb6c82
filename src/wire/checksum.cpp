// Internet checksum (RFC 1071).
//
// The fast sum relies on two properties from RFC 1071 section 2:
//  (B) byte-order independence: summing native-endian words and swapping the
//      folded result gives the same value as summing big-endian words, so
//      the loop loads machine words without any byte shuffling;
//  (C) parallel summation: the one's-complement sum of 32-bit words folds to
//      the same 16-bit value as the sum of the 16-bit words they contain.
// Every 8-byte load is split into two 32-bit halves added to 64-bit
// accumulators (each add is below 2^33), so carries simply pile up in the
// high bits and are folded once at the end. Four independent accumulators
// keep the adds from forming one serial dependency chain.
#include "wire/checksum.hpp"

#include <bit>
#include <cstring>

namespace rtether::wire {
namespace {

constexpr std::uint64_t kLow32 = 0xFFFF'FFFFu;
constexpr std::size_t kBlock = 32;  // bytes per unrolled iteration (4 x 8)
// Inputs are summed in chunks of at most this many bytes so that no
// accumulator can wrap: 2^30 / 8 adds of < 2^33 each stay below 2^60.
constexpr std::size_t kMaxChunk = std::size_t{1} << 30;

std::uint64_t load_native64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::uint32_t load_native32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::uint16_t load_native16(const std::uint8_t* p) {
  std::uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::uint64_t halves(std::uint64_t word) { return (word & kLow32) + (word >> 32); }

std::uint16_t fold16(std::uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFFu) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

std::uint16_t to_big_endian_order(std::uint16_t native) {
  if constexpr (std::endian::native == std::endian::little) {
    return static_cast<std::uint16_t>((native >> 8) | (native << 8));
  } else {
    return native;
  }
}

// One's-complement sum of data as native-endian 16-bit words, folded.
std::uint16_t native_sum(const std::uint8_t* p, std::size_t n) {
  std::uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  while (n >= kBlock) {
    a0 += halves(load_native64(p));
    a1 += halves(load_native64(p + 8));
    a2 += halves(load_native64(p + 16));
    a3 += halves(load_native64(p + 24));
    p += kBlock;
    n -= kBlock;
  }
  while (n >= 8) {
    a0 += halves(load_native64(p));
    p += 8;
    n -= 8;
  }
  if (n >= 4) {
    a1 += load_native32(p);
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    a2 += load_native16(p);
    p += 2;
    n -= 2;
  }
  if (n == 1) {
    // RFC 1071 4.1: the odd byte is the high half of a zero-padded word;
    // loading it through a padded buffer puts it where this machine wants.
    const std::uint8_t padded[2] = {p[0], 0};
    a3 += load_native16(padded);
  }
  // Each accumulator is below 2^60 (see kMaxChunk), so their sum cannot wrap.
  return fold16(a0 + a1 + a2 + a3);
}

}  // namespace

std::uint64_t checksum_add(Bytes data, std::uint64_t sum) {
  // Chunks other than the last have even length, so word alignment holds.
  while (!data.empty()) {
    const std::size_t chunk = data.size() < kMaxChunk ? data.size() : kMaxChunk;
    sum += to_big_endian_order(native_sum(data.data(), chunk));
    data = data.subspan(chunk);
  }
  return sum;
}

std::uint16_t checksum_fold(std::uint64_t sum) { return fold16(sum); }

std::uint16_t internet_checksum(Bytes data) {
  return static_cast<std::uint16_t>(~checksum_fold(checksum_add(data)));
}

std::uint16_t internet_checksum_reference(Bytes data) {
  std::uint32_t sum = 0;
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2) {
    sum += load_be16(data.data() + i);
    sum = (sum & 0xFFFFu) + (sum >> 16);
  }
  if (i < data.size()) {
    sum += static_cast<std::uint32_t>(data[i]) << 8;
    sum = (sum & 0xFFFFu) + (sum >> 16);
  }
  return static_cast<std::uint16_t>(~sum);
}

}  // namespace rtether::wire
