// Internet checksum (RFC 1071).
//
// The fast path sums 64 bits at a time and folds once at the end; the
// reference implementation is the textbook 16-bit loop, kept for tests and
// fuzzing only. Partial sums are 64-bit and unfolded so that pieces (pseudo
// header, header, payload) can be added in any order; every piece except the
// last must have even length so 16-bit word alignment is kept.
#pragma once

#include <cstdint>

#include "wire/bytes.hpp"

namespace rtether::wire {

// One's-complement sum of data as big-endian 16-bit words, added to `sum`.
// An odd trailing byte is padded with zero (RFC 1071 section 4.1).
std::uint64_t checksum_add(Bytes data, std::uint64_t sum = 0);

// Folds a partial sum to 16 bits (without the final complement).
std::uint16_t checksum_fold(std::uint64_t sum);

// Complete checksum: ~fold(sum(data)). A packet whose checksum field is
// included verifies when this returns 0.
std::uint16_t internet_checksum(Bytes data);

// Slow, obviously-correct reference: 16 bits at a time, fold per step.
std::uint16_t internet_checksum_reference(Bytes data);

}  // namespace rtether::wire
