// io/outbound.hpp on Windows: bind() to the source address, and
// IP_UNICAST_IF / IPV6_UNICAST_IF for an interface (Microsoft docs:
// "IPPROTO_IP socket options": the IPv4 interface index in network byte
// order; "IPPROTO_IPV6 socket options": the IPv6 one in host order), the
// index from if_nametoindex() (the interface's name as GetAdaptersAddresses
// lists it, e.g. "ethernet_32768", or its index in decimal).
#include "io/outbound.hpp"

#include <winsock2.h>
#include <ws2tcpip.h>
#include <iphlpapi.h>
#include <netioapi.h>

#include <charconv>
#include <cstring>

#include "io/windows/winsock.hpp"

namespace rtether::io {

namespace {

unsigned long interface_index(const std::string& name) {
  unsigned long index = 0;
  auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), index);
  if (error == std::errc{} && end == name.data() + name.size()) return index;
  return if_nametoindex(name.c_str());
}

}  // namespace

std::optional<OutboundError> apply_outbound(int fd, wire::IpVersion version,
                                            const Outbound& outbound) {
  const SOCKET handle = to_socket(fd);
  const bool v4 = version == wire::IpVersion::V4;
  if (!outbound.interface_name.empty()) {
    const unsigned long index = interface_index(outbound.interface_name);
    if (index == 0)
      return OutboundError{OutboundError::Step::Interface,
                           std::make_error_code(std::errc::no_such_device)};
    DWORD value = v4 ? htonl(index) : index;
    if (::setsockopt(handle, v4 ? IPPROTO_IP : IPPROTO_IPV6, v4 ? IP_UNICAST_IF : IPV6_UNICAST_IF,
                     reinterpret_cast<const char*>(&value), sizeof value) != 0)
      return OutboundError{OutboundError::Step::Interface, last_winsock_error()};
  }
  const auto& address = outbound.address_for(version);
  if (!address) return std::nullopt;
  sockaddr_storage storage{};
  int length = 0;
  if (v4) {
    auto* in = reinterpret_cast<sockaddr_in*>(&storage);
    in->sin_family = AF_INET;
    std::memcpy(&in->sin_addr, address->bytes.data(), 4);
    length = sizeof *in;
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
    in6->sin6_family = AF_INET6;
    std::memcpy(&in6->sin6_addr, address->bytes.data(), 16);
    length = sizeof *in6;
  }
  if (::bind(handle, reinterpret_cast<const sockaddr*>(&storage), length) != 0)
    return OutboundError{OutboundError::Step::Address, last_winsock_error()};
  return std::nullopt;
}

std::optional<OutboundError> check_outbound(const Outbound& outbound) {
  for (auto version : {wire::IpVersion::V4, wire::IpVersion::V6}) {
    const bool named = outbound.address_for(version).has_value();
    const bool interface_only = version == wire::IpVersion::V4 && !outbound.address_v4 &&
                                !outbound.address_v6 && !outbound.interface_name.empty();
    if (!named && !interface_only) continue;
    auto probe = open_socket(version == wire::IpVersion::V4 ? AF_INET : AF_INET6, SOCK_STREAM,
                             IPPROTO_TCP);
    if (!probe) return OutboundError{OutboundError::Step::Address, probe.error()};
    if (auto failed = apply_outbound(probe->get(), version, outbound)) return failed;
  }
  return std::nullopt;
}

}  // namespace rtether::io
