// Reading --secret FILE; see secret_file.hpp.
#include "cli/secret_file.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "wire/secret_handshake.hpp"

namespace rtether::cli {

std::optional<std::vector<std::uint8_t>> read_secret_file(const std::string& path,
                                                          std::string& error) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    error = fmt::format("--secret {}: cannot read it: {}", path, std::strerror(errno));
    return std::nullopt;
  }
  std::vector<std::uint8_t> secret;
  char byte;
  while (secret.size() <= kMaxSecretFileSize && file.get(byte))
    secret.push_back(static_cast<std::uint8_t>(byte));
  if (secret.size() > kMaxSecretFileSize) {
    error = fmt::format("--secret {}: larger than {} bytes, not a secret file", path,
                        kMaxSecretFileSize);
    return std::nullopt;
  }
  if (!secret.empty() && secret.back() == '\n') secret.pop_back();
  if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  constexpr std::size_t kMinimum = wire::secret_handshake::kMinimumSecretSize;
  if (secret.size() < kMinimum) {
    error = fmt::format(
        "--secret {}: {} bytes, fewer than {}: a listener could guess it from one handshake "
        "(make one with: head -c 32 /dev/urandom | base64 > FILE)",
        path, secret.size(), kMinimum);
    return std::nullopt;
  }
  return secret;
}

}  // namespace rtether::cli
