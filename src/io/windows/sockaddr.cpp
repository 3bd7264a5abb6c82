// Socket address conversions on Windows; see sockaddr.hpp.
#include "io/windows/sockaddr.hpp"

#include <cstddef>
#include <cstring>

namespace rtether::io {

int address_family(wire::IpVersion version) {
  return version == wire::IpVersion::V4 ? AF_INET : AF_INET6;
}

int socket_type(Transport transport) {
  return transport == Transport::Tcp ? SOCK_STREAM : SOCK_DGRAM;
}

int to_sockaddr(const Endpoint& endpoint, sockaddr_storage& storage) {
  std::memset(&storage, 0, sizeof storage);
  if (endpoint.address.version == wire::IpVersion::V4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(endpoint.port);
    std::memcpy(&sin->sin_addr, endpoint.address.bytes.data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(endpoint.port);
  std::memcpy(&sin6->sin6_addr, endpoint.address.bytes.data(), 16);
  return sizeof(sockaddr_in6);
}

std::optional<Endpoint> from_sockaddr(const sockaddr_storage& storage) {
  Endpoint endpoint;
  if (storage.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&storage);
    endpoint.address =
        wire::IpAddress::v4_from(reinterpret_cast<const std::uint8_t*>(&sin->sin_addr));
    endpoint.port = ntohs(sin->sin_port);
    return endpoint;
  }
  if (storage.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    endpoint.address =
        wire::IpAddress::v6_from(reinterpret_cast<const std::uint8_t*>(&sin6->sin6_addr));
    endpoint.port = ntohs(sin6->sin6_port);
    return endpoint;
  }
  return std::nullopt;
}

std::optional<int> to_sockaddr_un(const std::string& path, sockaddr_un& address) {
  std::memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  if (path.empty() || path[0] == '@' || path.size() >= sizeof address.sun_path) return std::nullopt;
  std::memcpy(address.sun_path, path.data(), path.size());
  return static_cast<int>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
}

}  // namespace rtether::io
