// Fakes for the daemon's two ports: a scripted UI behind ManagementPort and
// a scripted relay link behind ForwardingPort. Both write every call the
// daemon makes into one shared log, so a test reads the whole exchange in
// order ("state ASSIGN_IP", "needok IFCONFIG 10.0.0.2 ...", "connect",
// "sleep 1000", ...). Each wait can be scripted to be cut short by a signal;
// a script that runs out raises SIGTERM, so a test never loops for ever.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemon/forwarding_port.hpp"
#include "daemon/management_port.hpp"

namespace rtether::daemon::testing {

inline io::Fd any_fd() { return io::Fd(open("/dev/null", O_RDONLY | O_CLOEXEC)); }

struct CallLog {
  std::vector<std::string> lines;
  // The lines starting with `prefix`, with it removed.
  std::vector<std::string> with_prefix(const std::string& prefix) const {
    std::vector<std::string> out;
    for (const auto& line : lines) {
      if (line.rfind(prefix, 0) == 0) out.push_back(line.substr(prefix.size()));
    }
    return out;
  }
};

class FakeManagement final : public ManagementPort {
 public:
  explicit FakeManagement(CallLog& log) : log_(log) {}

  // The answers to each NEED-OK type, one per request, the last repeated
  // (default "ok"; PERSIST_TUN_ACTION: OPEN_BEFORE_CLOSE). An OPENTUN "ok"
  // comes with a fresh descriptor.
  std::map<std::string, std::vector<std::string>> actions;
  bool hold = false;
  // The n-th wait (counted over hold, needok and sleep, from 1) whose log
  // line starts with the key is cut short by this signal.
  struct Interruption {
    std::string call;
    int occurrence = 1;
    mgmt::Signal signal = mgmt::Signal::Term;
  };
  std::vector<Interruption> interruptions;
  // Hold releases granted; past them a hold wait gets SIGTERM.
  int hold_releases = 100;

  void raise(mgmt::Signal signal) {
    if (!pending_ || signal == mgmt::Signal::Term || signal == mgmt::Signal::Int) {
      pending_ = signal;
    }
  }

  bool hold_flag() override { return hold; }
  bool wait_hold_release(int wait_seconds) override {
    if (interrupted("hold " + std::to_string(wait_seconds))) return false;
    if (hold_releases-- <= 0) {
      raise(mgmt::Signal::Term);
      return false;
    }
    return true;
  }
  std::optional<mgmt::NeedOkAnswer> need_ok(const std::string& type, const std::string& payload,
                                            int fd) override {
    std::string line = "needok " + type + " " + payload;
    if (fd >= 0) line += " fd=" + std::to_string(fd);
    if (interrupted(line)) return std::nullopt;
    mgmt::NeedOkAnswer answer;
    answer.type = type;
    std::size_t asked = answers_given_[type]++;
    auto scripted = actions.find(type);
    if (scripted != actions.end() && !scripted->second.empty()) {
      answer.action = scripted->second[std::min(asked, scripted->second.size() - 1)];
    } else {
      answer.action = type == "PERSIST_TUN_ACTION" ? "OPEN_BEFORE_CLOSE" : "ok";
    }
    if (type == "OPENTUN" && answer.action == "ok") answer.fd = any_fd();
    return answer;
  }
  void set_state(mgmt::StateEntry entry) override {
    std::string line = "state " + entry.name;
    if (!entry.detail.empty()) line += "," + entry.detail;
    log_.lines.push_back(line);
    states.push_back(std::move(entry));
  }
  void log(std::string flags, std::string text) override {
    log_.lines.push_back("log " + flags + " " + text);
  }
  void fatal(const std::string& text) override { log_.lines.push_back("fatal " + text); }
  void flush() override { log_.lines.push_back("flush"); }
  bool sleep(std::chrono::milliseconds delay) override {
    return !interrupted("sleep " + std::to_string(delay.count()));
  }
  std::optional<mgmt::Signal> pending_signal() override { return pending_; }
  std::optional<mgmt::Signal> take_signal() override {
    return std::exchange(pending_, std::nullopt);
  }
  void set_link(int fd, bool protectable) override {
    log_.lines.push_back(fd < 0        ? "link none"
                         : protectable ? "link protected"
                                       : "link unprotected");
  }

  std::vector<mgmt::StateEntry> states;

 private:
  // Logs the wait; true (with the signal pending) if it is to be cut short.
  bool interrupted(const std::string& line) {
    log_.lines.push_back(line);
    waits_.push_back(line);
    for (const auto& interruption : interruptions) {
      if (line.rfind(interruption.call, 0) != 0) continue;
      int seen = 0;
      for (const auto& wait : waits_) seen += wait.rfind(interruption.call, 0) == 0 ? 1 : 0;
      if (seen == interruption.occurrence) {
        raise(interruption.signal);
        return true;
      }
    }
    return false;
  }

  CallLog& log_;
  std::optional<mgmt::Signal> pending_;
  std::vector<std::string> waits_;
  std::map<std::string, std::size_t> answers_given_;
};

class FakeForwarding final : public ForwardingPort {
 public:
  FakeForwarding(CallLog& log, FakeManagement& management) : log_(log), management_(management) {}

  // One connect: the destinations tried (nullopt: a UNIX socket), and
  // whether the last one reaches the relay.
  struct Attempt {
    std::vector<std::optional<wire::IpAddress>> destinations;
    bool reached = true;
  };
  std::deque<Attempt> attempts;
  // One forwarding session: how long it lasts and how it ends; Cancelled
  // ends it with `signal` pending.
  struct Session {
    std::chrono::milliseconds length{0};
    device::SessionEnd::Reason reason = device::SessionEnd::Reason::RelayClosed;
    mgmt::Signal signal = mgmt::Signal::Term;
  };
  std::deque<Session> sessions;

  std::optional<device::RelayConnection> connect(const device::BeforeConnect& before_connect,
                                                 std::string& error) override {
    log_.lines.push_back("connect");
    if (attempts.empty()) {
      management_.raise(mgmt::Signal::Term);
      error = "cancelled";
      return std::nullopt;
    }
    Attempt attempt = attempts.front();
    attempts.pop_front();
    io::Fd socket;
    for (const auto& destination : attempt.destinations) {
      socket = any_fd();
      sockets.push_back(socket.get());
      if (!before_connect(socket.get(), destination, error)) return std::nullopt;
    }
    if (!attempt.reached) {
      error = "Connection refused";
      return std::nullopt;
    }
    device::RelayConnection connection;
    connection.stream = std::move(socket);
    connection.client_id = 7;
    connection.remote_address = "192.0.2.1";
    connection.remote_port = "31416";
    connection.local_address = "192.0.2.100";
    connection.local_port = "40000";
    return connection;
  }
  std::string tun_name(int fd) override { return fd >= 0 && !not_a_tun ? "rtether0" : ""; }
  void use_tun(int fd, bool ipv6) override {
    log_.lines.push_back("use tun");
    tun_fd = fd;
    tun_ipv6 = ipv6;
  }
  device::SessionEnd forward(int) override {
    log_.lines.push_back("forward");
    if (sessions.empty()) {
      management_.raise(mgmt::Signal::Term);
      return {device::SessionEnd::Reason::Cancelled, "cancelled"};
    }
    Session session = sessions.front();
    sessions.pop_front();
    now_ += session.length;
    if (session.reason == device::SessionEnd::Reason::Cancelled) {
      management_.raise(session.signal);
      return {session.reason, "cancelled"};
    }
    return {session.reason, "relay closed the connection"};
  }
  void announce_ready(const std::string& tun_name) override {
    log_.lines.push_back("ready " + tun_name);
  }
  Clock::time_point now() override { return now_; }

  bool not_a_tun = false;
  int tun_fd = -1;
  std::optional<bool> tun_ipv6;  // use_tun's last ipv6
  std::vector<int> sockets;  // every socket handed to before_connect

 private:
  CallLog& log_;
  FakeManagement& management_;
  Clock::time_point now_{};
};

}  // namespace rtether::daemon::testing
