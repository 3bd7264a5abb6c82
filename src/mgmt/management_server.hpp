// ManagementServer: the socket side of the daemon's management interface.
//
// A thread of its own owns the management socket (listening, connected to a
// UI, or one end of an in-process socketpair), the signalfd of the daemon's
// stop/restart signals and the bytecount timer; it runs every command
// through a ManagementCore under a mutex. The daemon's session thread calls
// the blocking methods below to wait for a hold release or a NEED-OK answer;
// a signal (from the OS or the `signal` command) interrupts those waits and
// makes interrupt_fd() readable, which the packet forwarder and the relay
// connect also watch. The data path never touches the management socket, so
// a slow or silent UI delays only the setup step it must confirm.
//
// Roles: Listen (one UI at a time; the next one waits in the backlog until
// the current one leaves; the socket file is 0600 and a peer whose uid is
// not ours, or the allowed one, is refused), Connect (the UI listens; when
// it goes, the daemon stops, as OpenVPN's --management-client), Attached
// (an already connected socket: the in-process UI; same as Connect).
//
// A TCP port (`--management IP PORT`) is a second link beside the UI's,
// with a ManagementCore of its own: OpenVPN's desktop interface for
// monitoring tools, one client at a time. A TCP socket cannot carry the
// tun's descriptor, so the UI (in-process) still answers the NEED-OKs;
// the TCP client sees states, log lines and byte counts, answers the hold
// (--management-hold) and may send signals. Either link may require a
// password (PWFILE); a TCP client that has not sent it within
// tcp_login_timeout is closed, so a silent one cannot hold the port.
#pragma once

#include <sys/types.h>

#include <cstddef>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "io/private_unix_listener.hpp"
#include "io/socket.hpp"
#include "mgmt/line_reader.hpp"
#include "mgmt/management_core.hpp"

namespace rtether::mgmt {

// Output queued for a UI that does not read it; past this the UI is dropped.
inline constexpr std::size_t kMaxQueuedOutput = 1 << 20;
// How long a TCP client may take to send the right password. OpenVPN's
// manage.c has no such limit, but the port serves one client at a time: a
// client that connects and stays silent would hold it for ever.
inline constexpr std::chrono::milliseconds kTcpLoginTimeout = std::chrono::seconds(30);

struct ServerOptions {
  enum class Mode { Listen, Connect, Attached };
  Mode mode = Mode::Listen;
  std::string path;             // Listen / Connect
  io::Fd attached;              // Attached
  bool hold = false;            // --management-hold
  std::optional<uid_t> allowed_uid;  // Listen: a second uid allowed to connect
  std::string title;            // `version` and `help` header
  std::string password;         // Listen / Connect: required from the UI (empty: none)
  std::optional<io::Endpoint> tcp;  // the monitoring port, beside an Attached UI
  std::string tcp_password;         // required from every TCP client (empty: none)
  std::chrono::milliseconds tcp_login_timeout = kTcpLoginTimeout;  // with a tcp_password
};

class ManagementServer {
 public:
  // Blocks the daemon's signals (SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2)
  // in the calling thread (start it before any other thread) and opens the
  // socket. Throws std::runtime_error if the socket cannot be set up
  // (Connect: nobody listens at the path).
  ManagementServer(ServerOptions options, ManagementCore::Hooks hooks);
  ~ManagementServer();
  ManagementServer(const ManagementServer&) = delete;
  ManagementServer& operator=(const ManagementServer&) = delete;

  // Daemon side. Waits return false / nullopt when a signal interrupted.
  bool hold_flag();
  bool wait_hold_release(int wait_seconds);
  std::optional<NeedOkAnswer> need_ok(const std::string& type, const std::string& payload,
                                      int fd = -1);
  void set_state(StateEntry entry);
  void log(std::string flags, std::string text);
  // Sends >FATAL and waits (bounded) until it is written.
  void fatal(const std::string& text);
  // Waits (bounded) until everything queued has been written.
  void flush();

  // Waits up to `delay` for a signal; true if one is pending (it stays so).
  bool wait_for_signal(std::chrono::milliseconds delay);
  // A pending signal: peek or take (take clears interrupt_fd()).
  std::optional<Signal> pending_signal();
  std::optional<Signal> take_signal();
  // Readable while a signal is pending.
  int interrupt_fd() const { return interrupt_.get(); }

  // The relay link, for network-change: fd (borrowed; -1 = none) and whether
  // it needs protecting at all (not loopback, not UNIX). Call with -1 before
  // closing the link.
  void set_link(int fd, bool protectable);

  // The TCP port's address (its port is the kernel's choice for port 0).
  std::optional<io::Endpoint> tcp_endpoint() const { return tcp_endpoint_; }

 private:
  // One management connection (or its listener) and its interpreter.
  struct Link {
    Link(ManagementCore interpreter, bool stops)
        : core(std::move(interpreter)), owns_daemon(stops) {}
    ManagementCore core;
    bool owns_daemon;  // its client leaving stops the daemon (Connect, Attached)
    std::string where;  // what it listens on, for the log
    io::PrivateUnixListener unix_listener;
    io::Fd tcp_listener;
    io::Fd socket;
    LineReader reader;
    int bytecount_interval = 0;
    std::chrono::steady_clock::time_point next_bytecount{};
    // Set while an accepted TCP client has not sent the password yet.
    std::optional<std::chrono::steady_clock::time_point> login_deadline;

    int listener_fd() const {
      return unix_listener.valid() ? unix_listener.fd() : tcp_listener.get();
    }
  };

  void run();
  void accept_client(Link& link);
  void read_client(Link& link);
  void write_locked(Link& link);
  void drop_locked(Link& link, const char* why);
  void drop_if_login_late_locked(Link& link);
  void write_all_locked();
  void on_os_signal();
  void raise_locked(Signal signal);
  void log_locked(const std::string& flags, const std::string& text);
  void kick();
  int network_change(bool same_network);
  // The link whose client answers holds: the TCP port's when there is one.
  Link& hold_link() { return monitor_ ? *monitor_ : ui_; }
  bool ui_connected() const { return ui_.socket.valid(); }

  ServerOptions options_;
  Link ui_;
  std::optional<Link> monitor_;
  std::optional<io::Endpoint> tcp_endpoint_;
  std::mutex mutex_;
  std::condition_variable changed_;
  io::Fd signals_;
  io::Fd wake_;       // eventfd: the session queued output or asks to stop
  io::Fd interrupt_;  // eventfd: a signal is pending
  std::optional<Signal> pending_;
  int link_fd_ = -1;
  bool link_protectable_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace rtether::mgmt
