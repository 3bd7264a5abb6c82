// resolve_host_name on Windows: see io/host_names.hpp (getaddrinfo of
// Winsock, started by io/process_setup).
#include "io/host_names.hpp"

#include "io/windows/winsock.hpp"

#include <algorithm>
#include <cstring>

#include "io/windows/sockaddr.hpp"

namespace rtether::io {

std::vector<wire::IpAddress> resolve_host_name(const std::string& name, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;  // one entry per address, not one per socket type
  addrinfo* found = nullptr;
  if (int status = ::getaddrinfo(name.c_str(), nullptr, &hints, &found); status != 0) {
    error = winsock_error(status).message();
    return {};
  }
  std::vector<wire::IpAddress> addresses;
  for (const addrinfo* entry = found; entry != nullptr; entry = entry->ai_next) {
    if (entry->ai_addrlen > sizeof(sockaddr_storage)) continue;
    sockaddr_storage storage{};
    std::memcpy(&storage, entry->ai_addr, entry->ai_addrlen);
    auto endpoint = from_sockaddr(storage);
    if (endpoint && std::find(addresses.begin(), addresses.end(), endpoint->address) ==
                        addresses.end())
      addresses.push_back(endpoint->address);
  }
  ::freeaddrinfo(found);
  if (addresses.empty()) error = "no IPv4 or IPv6 address";
  return addresses;
}

}  // namespace rtether::io
