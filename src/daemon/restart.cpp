// Restart reasons and the retry back-off; see restart.hpp.
#include "daemon/restart.hpp"

#include <algorithm>

namespace rtether::daemon {

std::string reconnecting_detail(const Restart& restart) {
  switch (restart.reason) {
    case RestartReason::Signal:
      return restart.signal ? mgmt::signal_name(*restart.signal) : "";
    case RestartReason::ConnectFailed:
      return "connection-failed";
    case RestartReason::RelayGone:
      return "connection-reset";
  }
  return "";
}

bool backs_off(RestartReason reason) { return reason != RestartReason::Signal; }

void RetryBackoff::on_restart(const Restart& restart) {
  bool asked_for = restart.reason == RestartReason::Signal && restart.signal;
  bool healthy =
      restart.reason == RestartReason::RelayGone && restart.session_length >= kHealthySession;
  if (asked_for || healthy) reset();
}

void RetryBackoff::advance() {
  delay_ = delay_ == std::chrono::milliseconds(0) ? kFirstRetryDelay
                                                  : std::min(2 * delay_, kMaxRetryDelay);
}

}  // namespace rtether::daemon
