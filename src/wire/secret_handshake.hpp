// The bytes of the optional shared-secret handshake (`--secret FILE`, off
// by default; Gnirehtet's app cannot answer it, so it is for links that are
// not adb). On a link with a secret, the relay's first bytes are
//
//   client id   4 bytes, big-endian (as without a secret: Gnirehtet's)
//   nonce      32 bytes, fresh from the OS's CSPRNG for each connection
//
// and the client's first bytes, before any IP packet, are
//
//   answer     32 bytes: HMAC-SHA256(secret, label || client id || nonce)
//
// with label the 17 ASCII bytes "rtether secret v1" (no NUL). A listener
// learns a nonce and its answer, which open no other connection (every
// nonce is new, so a replayed answer fails) and do not reveal the secret
// (a long random one: a weak secret can be guessed offline from them). The
// relay relays nothing until the answer is right and closes the connection
// on a wrong one or on silence past its deadline. The handshake
// authenticates the start of the link only: the stream after it is neither
// encrypted nor integrity-protected (docs/SECURITY.md).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "wire/bytes.hpp"

namespace rtether::wire::secret_handshake {

inline constexpr std::string_view kLabel = "rtether secret v1";
inline constexpr std::size_t kClientIdSize = 4;
inline constexpr std::size_t kNonceSize = 32;
inline constexpr std::size_t kAnswerSize = 32;  // an HMAC-SHA256
// A secret shorter than this is refused when it is read: the answer on the
// wire lets a listener test guesses offline.
inline constexpr std::size_t kMinimumSecretSize = 16;

// label || client id (big-endian) || nonce: what the answer authenticates.
std::vector<std::uint8_t> answered_message(std::uint32_t client_id, Bytes nonce);

}  // namespace rtether::wire::secret_handshake
