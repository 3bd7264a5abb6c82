// io/outbound.hpp on Linux: bind(2) with IP_BIND_ADDRESS_NO_PORT (ip(7)),
// SO_BINDTODEVICE (socket(7): "needs CAP_NET_RAW").
#include "io/outbound.hpp"

#include <netinet/in.h>

#include <cerrno>

#include "io/linux/sockaddr.hpp"

namespace rtether::io {

namespace {

std::error_code last_error() { return {errno, std::generic_category()}; }

}  // namespace

std::optional<OutboundError> apply_outbound(int fd, wire::IpVersion version,
                                            const Outbound& outbound) {
  if (!outbound.interface_name.empty() &&
      ::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, outbound.interface_name.c_str(),
                   static_cast<socklen_t>(outbound.interface_name.size())) < 0)
    return OutboundError{OutboundError::Step::Interface, last_error()};
  const auto& address = outbound.address_for(version);
  if (!address) return std::nullopt;
  int type = 0;
  socklen_t type_length = sizeof type;
  // A TCP port is chosen at connect(), with the destination known, so one
  // source address serves as many connections as it has 4-tuples.
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_length) == 0 && type == SOCK_STREAM) {
    int on = 1;
    ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
  }
  sockaddr_storage storage;
  const socklen_t length = to_sockaddr(Endpoint{*address, 0}, storage);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) < 0)
    return OutboundError{OutboundError::Step::Address, last_error()};
  return std::nullopt;
}

std::optional<OutboundError> check_outbound(const Outbound& outbound) {
  for (auto version : {wire::IpVersion::V4, wire::IpVersion::V6}) {
    const bool named = outbound.address_for(version).has_value();
    const bool interface_only = version == wire::IpVersion::V4 && !outbound.address_v4 &&
                                !outbound.address_v6 && !outbound.interface_name.empty();
    if (!named && !interface_only) continue;
    Fd probe{::socket(address_family(version), SOCK_STREAM | SOCK_CLOEXEC, 0)};
    if (!probe.valid()) return OutboundError{OutboundError::Step::Address, last_error()};
    if (auto failed = apply_outbound(probe.get(), version, outbound)) return failed;
  }
  return std::nullopt;
}

}  // namespace rtether::io
