// disable_ipv6: turns the kernel's IPv6 off on one interface, so it never
// makes a link-local address and never sends router solicitations, MLD
// reports or duplicate address detection probes through it (RFC 4861 6.3.7,
// RFC 3810 5, RFC 4862 5.4). rtnetlink can read an interface's IPv6
// settings but not write them: this is the per-interface sysctl
// /proc/sys/net/ipv6/conf/NAME/disable_ipv6.
#pragma once

#include <string>
#include <system_error>

namespace rtether::device {

// Writes 1 to NAME's disable_ipv6 in the network namespace of the calling
// thread (/proc/sys/net follows the thread, see NetnsGuard). Call it before
// the link comes up: an address made at link-up would otherwise already be
// announced. Errors: no_such_file_or_directory when the kernel has no IPv6
// (nothing to turn off), else why the write failed (a read-only /proc/sys).
std::error_code disable_ipv6(const std::string& interface_name);

}  // namespace rtether::device
