// Why the daemon starts a session over, and when the next one begins.
//
// A restart asked for (SIGHUP, or SIGUSR1: ics-openvpn's pause) starts again
// at once and resets the back-off; a failure (the relay cannot be reached,
// or it ended the session) is retried at once, then after 1 s doubling to
// 5 s. A session that forwarded for 5 s or more was healthy: losing it
// resets the back-off too, but a relay that drops us at once (bad stream,
// full) is not hammered. With --management-hold every restart waits in hold
// instead, the back-off shown as the hold's wait time.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "mgmt/management_core.hpp"

namespace rtether::daemon {

enum class RestartReason {
  Signal,         // SIGHUP or SIGUSR1, from the OS or a `signal` command
  ConnectFailed,  // the relay could not be reached, or sent no client id
  RelayGone,      // the relay ended a session (closed, reset, bad stream)
};

struct Restart {
  RestartReason reason = RestartReason::Signal;
  std::optional<mgmt::Signal> signal;           // Signal: which one
  std::chrono::milliseconds session_length{0};  // RelayGone: time forwarded
};

// RECONNECTING's detail field, as OpenVPN writes it: the signal's name,
// "connection-failed" or "connection-reset".
std::string reconnecting_detail(const Restart& restart);
// Whether the attempt after this restart waits out the back-off.
bool backs_off(RestartReason reason);

inline constexpr std::chrono::milliseconds kFirstRetryDelay{1000};
inline constexpr std::chrono::milliseconds kMaxRetryDelay{5000};
inline constexpr std::chrono::milliseconds kHealthySession{5000};

class RetryBackoff {
 public:
  // The wait before the next attempt that backs off.
  std::chrono::milliseconds delay() const { return delay_; }
  // A restart asked for, or the end of a healthy session, starts over.
  void on_restart(const Restart& restart);
  // After waiting for a failed attempt: at once, then 1 s doubling to 5 s.
  void advance();
  void reset() { delay_ = std::chrono::milliseconds(0); }

 private:
  std::chrono::milliseconds delay_{0};
};

}  // namespace rtether::daemon
