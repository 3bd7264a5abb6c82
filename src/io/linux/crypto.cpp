// io/crypto.hpp on Linux: OpenSSL's libcrypto (Debian's libssl-dev).
#include "io/crypto.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <climits>
#include <stdexcept>

namespace rtether::io {

Sha256Digest hmac_sha256(wire::Bytes key, wire::Bytes message) {
  Sha256Digest digest{};
  unsigned int length = 0;
  // HMAC() fails only on a broken library (no SHA-256) or an int-sized key.
  if (key.size() > INT_MAX ||
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), message.data(), message.size(),
           digest.data(), &length) == nullptr ||
      length != digest.size())
    throw std::runtime_error("OpenSSL HMAC-SHA256 failed");
  return digest;
}

std::error_code random_bytes(wire::MutableBytes into) {
  if (into.size() > INT_MAX) return std::make_error_code(std::errc::invalid_argument);
  // RAND_bytes draws from a generator seeded by getrandom(); 1 is success.
  if (RAND_bytes(into.data(), static_cast<int>(into.size())) != 1)
    return std::make_error_code(std::errc::resource_unavailable_try_again);
  return {};
}

}  // namespace rtether::io
