// ManagementPort: every call the daemon makes on its management interface
// (OpenVPN's, mgmt/): the hold wait, state and log lines, NEED-OK requests
// and their answers (with the descriptors that travel both ways: the tun fd
// in an OPENTUN answer, the relay socket sent with PROTECTFD), the pending
// signal, and the relay link kept for network-change.
//
// Every wait returns early when a signal is pending (from the OS or a
// `signal` command); the daemon then takes it and decides. The production
// port is ManagementServerPort (a mgmt::ManagementServer); tests use a fake
// that answers from a script (tests/daemon/fake_ports.hpp).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "mgmt/management_core.hpp"
#include "mgmt/messages.hpp"

namespace rtether::daemon {

class ManagementPort {
 public:
  virtual ~ManagementPort() = default;

  // Whether every (re)start waits in hold (--management-hold, `hold on`).
  virtual bool hold_flag() = 0;
  // Sends >HOLD and waits for `hold release`; false if a signal came first.
  virtual bool wait_hold_release(int wait_seconds) = 0;
  // Sends >NEED-OK (with `fd`, borrowed, as SCM_RIGHTS when >= 0) and waits
  // for the UI's needok; nullopt if a signal came first.
  virtual std::optional<mgmt::NeedOkAnswer> need_ok(const std::string& type,
                                                    const std::string& payload, int fd) = 0;
  virtual void set_state(mgmt::StateEntry entry) = 0;
  virtual void log(std::string flags, std::string text) = 0;
  // Sends >FATAL and waits (bounded) until it is written.
  virtual void fatal(const std::string& text) = 0;
  // Waits (bounded) until everything queued has been written.
  virtual void flush() = 0;
  // Waits up to `delay`; false if a signal is pending first.
  virtual bool sleep(std::chrono::milliseconds delay) = 0;
  virtual std::optional<mgmt::Signal> pending_signal() = 0;
  virtual std::optional<mgmt::Signal> take_signal() = 0;
  // The relay link (borrowed; -1 = none) and whether a network-change must
  // re-protect it; set to -1 before the link is closed.
  virtual void set_link(int fd, bool protectable) = 0;
};

}  // namespace rtether::daemon
