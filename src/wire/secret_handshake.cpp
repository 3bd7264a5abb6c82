// The handshake's message layout; see secret_handshake.hpp.
#include "wire/secret_handshake.hpp"

#include <cstring>

namespace rtether::wire::secret_handshake {

std::vector<std::uint8_t> answered_message(std::uint32_t client_id, Bytes nonce) {
  std::vector<std::uint8_t> message(kLabel.size() + kClientIdSize + nonce.size());
  std::uint8_t* out = message.data();
  std::memcpy(out, kLabel.data(), kLabel.size());
  store_be32(out + kLabel.size(), client_id);
  if (!nonce.empty()) std::memcpy(out + kLabel.size() + kClientIdSize, nonce.data(), nonce.size());
  return message;
}

}  // namespace rtether::wire::secret_handshake
