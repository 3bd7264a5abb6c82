// The host's resolvers on Linux: /etc/resolv.conf (see io/dns_servers.hpp).
#include "io/dns_servers.hpp"

namespace rtether::io {

Result<std::vector<wire::IpAddress>> host_dns_servers() {
  return read_resolv_conf("/etc/resolv.conf");
}

}  // namespace rtether::io
