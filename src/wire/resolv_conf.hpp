// The name servers of a resolv.conf(5) text, as glibc's resolver reads
// them: `nameserver ADDRESS` lines in order, at most MAXNS (3, resolv.h)
// of them; '#' or ';' starts a comment line; keywords and values are
// separated by spaces or tabs. A scoped address (fe80::1%eth0) is skipped:
// IpAddress carries no zone, and without one a link-local address cannot
// be dialled. Reading the file is io/'s (io/dns_servers.hpp).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "wire/ip_address.hpp"

namespace rtether::wire {

inline constexpr std::size_t kResolvConfMaxServers = 3;  // glibc's MAXNS

std::vector<IpAddress> parse_resolv_conf(std::string_view text);

}  // namespace rtether::wire
