// The --secret FILE of `relay` and `client`: the file's bytes are the
// shared secret (wire/secret_handshake.hpp), less one trailing newline
// ("\n" or "\r\n", as an editor or `echo` leaves it). Make one with
// `head -c 32 /dev/urandom | base64 > FILE`; keep it readable only by the
// users that run rtether.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rtether::cli {

// Files larger than this are not secrets but mistakes (a binary, a log).
inline constexpr std::size_t kMaxSecretFileSize = 4096;

// The secret, or nullopt with a one-line reason naming the file: it cannot
// be read, is too large, or holds fewer than kMinimumSecretSize bytes.
std::optional<std::vector<std::uint8_t>> read_secret_file(const std::string& path,
                                                          std::string& error);

}  // namespace rtether::cli
