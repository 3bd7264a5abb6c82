// The two cryptographic primitives of the --secret handshake, behind an
// OS-neutral signature: HMAC-SHA256 (RFC 2104, FIPS 180-4) and bytes from
// the operating system's cryptographic random generator. Linux uses
// OpenSSL's libcrypto (io/linux/crypto.cpp), Windows CNG from bcrypt.dll
// (io/windows/crypto.cpp), so relay/ and device/ need neither.
#pragma once

#include <array>
#include <cstdint>
#include <system_error>

#include "wire/bytes.hpp"

namespace rtether::io {

inline constexpr std::size_t kSha256Size = 32;
using Sha256Digest = std::array<std::uint8_t, kSha256Size>;

// HMAC-SHA256(key, message). Any key length (RFC 2104 hashes a long one).
Sha256Digest hmac_sha256(wire::Bytes key, wire::Bytes message);

// Fills `into` from the OS's CSPRNG; the error when it cannot.
std::error_code random_bytes(wire::MutableBytes into);

// Whether a and b hold the same bytes, in time that depends only on their
// lengths (an answer compared byte by byte with an early exit would tell a
// prober how much of it was right).
bool equal_in_constant_time(wire::Bytes a, wire::Bytes b);

}  // namespace rtether::io
