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

struct ServerOptions {
  enum class Mode { Listen, Connect, Attached };
  Mode mode = Mode::Listen;
  std::string path;             // Listen / Connect
  io::Fd attached;              // Attached
  bool hold = false;            // --management-hold
  std::optional<uid_t> allowed_uid;  // Listen: a second uid allowed to connect
  std::string title;            // `version` and `help` header
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

 private:
  void run();
  void accept_ui();
  void read_ui();
  void write_ui_locked();
  void drop_ui_locked(const char* why);
  void on_os_signal();
  void raise_locked(Signal signal);
  void kick();
  int network_change(bool same_network);

  ServerOptions options_;
  ManagementCore core_;
  std::mutex mutex_;
  std::condition_variable changed_;
  io::Fd signals_;
  io::Fd wake_;       // eventfd: the session queued output or asks to stop
  io::Fd interrupt_;  // eventfd: a signal is pending
  io::PrivateUnixListener listener_;
  io::Fd ui_;
  LineReader reader_;
  std::optional<Signal> pending_;
  int link_fd_ = -1;
  bool link_protectable_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace rtether::mgmt
