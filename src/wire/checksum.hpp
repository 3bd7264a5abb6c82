// Internet checksum (RFC 1071) with incremental update (RFC 1624).
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

// RFC 1624 eqn. 3: new checksum after one 16-bit field changes from
// old_value to new_value, HC' = ~(~HC + ~m + m').
std::uint16_t checksum_update16(std::uint16_t checksum, std::uint16_t old_value,
                                std::uint16_t new_value);

// Same for a 32-bit field (two 16-bit words).
std::uint16_t checksum_update32(std::uint16_t checksum, std::uint32_t old_value,
                                std::uint32_t new_value);

}  // namespace rtether::wire
