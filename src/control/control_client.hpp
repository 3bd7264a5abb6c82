// ControlClient: one request to a relay's control socket and its reply
// (`rtether status`, `rtether forward`), with a deadline so a relay that
// does not answer never hangs the caller.
#pragma once

#include <chrono>
#include <string>

namespace rtether::control {

inline constexpr std::size_t kMaxReplyBytes = 16 << 20;

// Sends `request` (one line, without '\n') to the socket at `path` and
// returns the reply line without its '\n'. Throws std::runtime_error
// naming the path: no socket there (or not allowed to it), the relay
// closed without a reply, no reply within `timeout`, a reply over
// kMaxReplyBytes.
std::string exchange(const std::string& path, const std::string& request,
                     std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace rtether::control
