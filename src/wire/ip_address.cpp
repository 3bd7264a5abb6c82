// Text form of IpAddress. inet_pton/inet_ntop are libc formatting routines
// (no I/O), and they get the RFC 5952 canonical IPv6 form right.
#include "wire/ip_address.hpp"

#include <arpa/inet.h>

namespace rtether::wire {

bool IpAddress::parse(const std::string& text, IpAddress& out) {
  IpAddress parsed;
  if (inet_pton(AF_INET, text.c_str(), parsed.bytes.data()) == 1) {
    out = parsed;
    return true;
  }
  parsed.version = IpVersion::V6;
  if (inet_pton(AF_INET6, text.c_str(), parsed.bytes.data()) == 1) {
    out = parsed;
    return true;
  }
  return false;
}

std::string IpAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  const int family = version == IpVersion::V4 ? AF_INET : AF_INET6;
  inet_ntop(family, bytes.data(), text, sizeof text);
  return text;
}

}  // namespace rtether::wire
