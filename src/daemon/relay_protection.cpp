// The PROTECTFD decision; see relay_protection.hpp.
#include "daemon/relay_protection.hpp"

namespace rtether::daemon {

bool needs_protection(const std::optional<wire::IpAddress>& destination) {
  // A loopback destination (dual-stack mapped forms included) never leaves
  // the host, so the tun's routes cannot catch it.
  return destination && !wire::is_loopback(*destination);
}

}  // namespace rtether::daemon
