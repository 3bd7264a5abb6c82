// io/crypto.hpp on Windows: CNG from bcrypt.dll, which every Windows ships
// (Microsoft docs: "BCryptOpenAlgorithmProvider" with
// BCRYPT_ALG_HANDLE_HMAC_FLAG, "BCryptHash", "BCryptGenRandom" with
// BCRYPT_USE_SYSTEM_PREFERRED_RNG).
#include "io/crypto.hpp"

#include <windows.h>
#include <bcrypt.h>

#include <climits>
#include <stdexcept>

namespace rtether::io {

namespace {

// BCRYPT_SUCCESS is a macro of ntdef.h, which mingw's bcrypt.h may not pull in.
bool succeeded(NTSTATUS status) { return status >= 0; }

}  // namespace

Sha256Digest hmac_sha256(wire::Bytes key, wire::Bytes message) {
  Sha256Digest digest{};
  if (key.size() > ULONG_MAX || message.size() > ULONG_MAX)
    throw std::runtime_error("HMAC-SHA256 input too long");
  BCRYPT_ALG_HANDLE algorithm = nullptr;
  if (!succeeded(BCryptOpenAlgorithmProvider(&algorithm, BCRYPT_SHA256_ALGORITHM, nullptr,
                                             BCRYPT_ALG_HANDLE_HMAC_FLAG)))
    throw std::runtime_error("BCryptOpenAlgorithmProvider(SHA256, HMAC) failed");
  // BCryptHash takes non-const buffers but reads them only.
  NTSTATUS status = BCryptHash(algorithm, const_cast<PUCHAR>(key.data()),
                               static_cast<ULONG>(key.size()), const_cast<PUCHAR>(message.data()),
                               static_cast<ULONG>(message.size()), digest.data(),
                               static_cast<ULONG>(digest.size()));
  BCryptCloseAlgorithmProvider(algorithm, 0);
  if (!succeeded(status)) throw std::runtime_error("BCryptHash (HMAC-SHA256) failed");
  return digest;
}

std::error_code random_bytes(wire::MutableBytes into) {
  if (into.size() > ULONG_MAX) return std::make_error_code(std::errc::invalid_argument);
  if (!succeeded(BCryptGenRandom(nullptr, into.data(), static_cast<ULONG>(into.size()),
                                 BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
    return std::make_error_code(std::errc::resource_unavailable_try_again);
  return {};
}

}  // namespace rtether::io
