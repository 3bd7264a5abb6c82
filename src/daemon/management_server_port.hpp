// ManagementServerPort: the daemon's ManagementPort on a real
// mgmt::ManagementServer (its thread owns the socket; these calls block the
// session thread only).
#pragma once

#include "daemon/management_port.hpp"
#include "mgmt/management_server.hpp"

namespace rtether::daemon {

class ManagementServerPort final : public ManagementPort {
 public:
  explicit ManagementServerPort(mgmt::ManagementServer& server) : server_(server) {}

  bool hold_flag() override { return server_.hold_flag(); }
  bool wait_hold_release(int wait_seconds) override {
    return server_.wait_hold_release(wait_seconds);
  }
  std::optional<mgmt::NeedOkAnswer> need_ok(const std::string& type, const std::string& payload,
                                            int fd) override {
    return server_.need_ok(type, payload, fd);
  }
  void set_state(mgmt::StateEntry entry) override { server_.set_state(std::move(entry)); }
  void log(std::string flags, std::string text) override {
    server_.log(std::move(flags), std::move(text));
  }
  void fatal(const std::string& text) override { server_.fatal(text); }
  void flush() override { server_.flush(); }
  bool sleep(std::chrono::milliseconds delay) override { return !server_.wait_for_signal(delay); }
  std::optional<mgmt::Signal> pending_signal() override { return server_.pending_signal(); }
  std::optional<mgmt::Signal> take_signal() override { return server_.take_signal(); }
  void set_link(int fd, bool protectable) override { server_.set_link(fd, protectable); }

 private:
  mgmt::ManagementServer& server_;
};

}  // namespace rtether::daemon
