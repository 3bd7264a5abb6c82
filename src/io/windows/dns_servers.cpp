// The host's resolvers on Windows (see io/dns_servers.hpp): the DNS server
// addresses of every adapter that is up, from GetAdaptersAddresses (IP
// Helper, "GetAdaptersAddresses function (iphlpapi.h)"), in adapter order,
// each address once. As on Linux (wire/resolv_conf.hpp), scoped addresses
// are skipped, and so are fec0:0:0:ffff::1-3, the deprecated site-local
// placeholders Windows lists on adapters with no IPv6 DNS server.
#include <winsock2.h>
#include <ws2tcpip.h>
#include <iphlpapi.h>

#include <algorithm>
#include <vector>

#include "io/dns_servers.hpp"

namespace rtether::io {

namespace {
// Microsoft's advice: start with 15 KB and retry with the size asked for;
// adapters can appear between two calls, so a few tries.
constexpr ULONG kInitialBuffer = 15 * 1024;
constexpr int kTries = 3;

bool is_site_local_placeholder(const wire::IpAddress& address) {
  return address.version == wire::IpVersion::V6 && address.bytes[0] == 0xfe &&
         (address.bytes[1] & 0xc0) == 0xc0;
}

void add_server(const SOCKET_ADDRESS& socket_address, std::vector<wire::IpAddress>& servers) {
  const sockaddr* generic = socket_address.lpSockaddr;
  if (generic == nullptr) return;
  wire::IpAddress address;
  if (generic->sa_family == AF_INET &&
      socket_address.iSockaddrLength >= static_cast<INT>(sizeof(sockaddr_in))) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(generic);
    address = wire::IpAddress::v4_from(reinterpret_cast<const std::uint8_t*>(&v4->sin_addr));
  } else if (generic->sa_family == AF_INET6 &&
             socket_address.iSockaddrLength >= static_cast<INT>(sizeof(sockaddr_in6))) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(generic);
    if (v6->sin6_scope_id != 0) return;
    address = wire::IpAddress::v6_from(reinterpret_cast<const std::uint8_t*>(&v6->sin6_addr));
    if (is_site_local_placeholder(address)) return;
  } else {
    return;
  }
  if (std::find(servers.begin(), servers.end(), address) == servers.end())
    servers.push_back(address);
}
}  // namespace

Result<std::vector<wire::IpAddress>> host_dns_servers() {
  constexpr ULONG kFlags = GAA_FLAG_SKIP_UNICAST | GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST |
                           GAA_FLAG_SKIP_FRIENDLY_NAME;
  ULONG size = kInitialBuffer;
  std::vector<unsigned char> buffer;
  ULONG status = ERROR_BUFFER_OVERFLOW;
  for (int tries = 0; tries < kTries && status == ERROR_BUFFER_OVERFLOW; ++tries) {
    buffer.resize(size);
    status = GetAdaptersAddresses(AF_UNSPEC, kFlags, nullptr,
                                  reinterpret_cast<IP_ADAPTER_ADDRESSES*>(buffer.data()), &size);
  }
  std::vector<wire::IpAddress> servers;
  if (status == ERROR_NO_DATA) return servers;
  if (status != NO_ERROR) return std::error_code(static_cast<int>(status), std::system_category());
  for (auto* adapter = reinterpret_cast<IP_ADAPTER_ADDRESSES*>(buffer.data()); adapter != nullptr;
       adapter = adapter->Next) {
    if (adapter->OperStatus != IfOperStatusUp) continue;
    for (auto* server = adapter->FirstDnsServerAddress; server != nullptr; server = server->Next)
      add_server(server->Address, servers);
  }
  return servers;
}

}  // namespace rtether::io
