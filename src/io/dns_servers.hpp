// The host's DNS resolvers, which the relay's DNS forwarder asks on the
// device's behalf. Read once at start-up (cli), never from the loop.
//   Linux: the nameserver lines of /etc/resolv.conf (wire/resolv_conf.hpp),
//   loopback stubs such as systemd-resolved's 127.0.0.53 included.
//   Windows: the DNS servers of every adapter that is up, in adapter order
//   (GetAdaptersAddresses, iphlpapi).
#pragma once

#include <string>
#include <vector>

#include "io/result.hpp"
#include "wire/ip_address.hpp"

namespace rtether::io {

Result<std::vector<wire::IpAddress>> host_dns_servers();

// The nameservers of one resolv.conf(5) file (`rtether relay --resolv-conf`).
Result<std::vector<wire::IpAddress>> read_resolv_conf(const std::string& path);

}  // namespace rtether::io
