// protect_socket: Linux's answer to VpnService.protect(fd) for a UI that put
// a tun in place: the daemon's relay socket must keep using the network the
// tun is layered over, or its own packets would loop into the tun.
//
// Choice (docs/ARCHITECTURE.md): SO_BINDTODEVICE to the interface of the
// namespace's default route that is not a tun of ours. A bound socket's
// route lookups only consider routes through that interface, so the tun's
// routes (0.0.0.0/1 + 128.0.0.0/1, or narrower ones) are skipped without
// moving them into a routing table of their own, which an SO_MARK + policy
// rule scheme would need. A socket that lives in another network namespace
// than the tun (the usual `--netns` set-up) is not affected by the tun's
// routes at all and is left as it is.
#pragma once

#include <string>

namespace rtether::device {

struct ProtectResult {
  bool ok = false;
  std::string detail;  // one line for the log: what was done, or why not
};

// `tun_netns`: the named namespace the tun is in (empty: the caller's);
// `tun_prefix`: interface names to skip as the underlying device.
ProtectResult protect_socket(int fd, const std::string& tun_netns, const std::string& tun_prefix);

}  // namespace rtether::device
