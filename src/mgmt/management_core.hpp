// ManagementCore: the daemon side of the management protocol as a pure state
// machine. The server (management_server.hpp) feeds it command lines and
// descriptors received with them; the daemon's session feeds it states, log
// lines, hold and NEED-OK queries; the core queues the exact bytes to send
// (with a descriptor to attach to a chunk where the protocol passes one) and
// records what the UI asked for: a signal, a hold release, a needok answer.
//
// Queries (hold, NEED-OK) stay pending across UI connections: a new UI is
// greeted and shown the pending query again, as OpenVPN does. Commands keep
// being served while a query is pending; a query never blocks anything but
// the setup step that waits for its answer.
//
// With a password (--management's PWFILE) a connection first gets OpenVPN's
// bare "ENTER PASSWORD:" prompt and nothing else until its first line
// matches; a wrong one is answered by the prompt alone, and the third
// closes the connection (manage.c man_check_password, whose "ERROR: bad
// password" never reaches the client: output is held until the password is
// verified). The log history honours `verb` (a line's level follows its
// flags: F 0, I/W/N 1, D and none 3, OpenVPN's D_MANAGEMENT levels) and
// `mute` (OpenVPN's dont_mute: at most N lines in a row of one category).
#pragma once

#include <cstdint>
#include <ctime>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/socket.hpp"
#include "mgmt/messages.hpp"

namespace rtether::mgmt {

enum class Signal { Hup, Term, Usr1, Usr2, Int };
std::optional<Signal> parse_signal(std::string_view name);
const char* signal_name(Signal signal);

struct NeedOkAnswer {
  std::string type;
  std::string action;  // "ok", "cancel", or a PERSIST_TUN_ACTION method
  io::Fd fd;           // the descriptor that came with the answer, if any
};

// Totals shown by bytecount and status (they survive restarts).
struct TrafficTotals {
  std::uint64_t link_in = 0;   // bytes read from the relay link
  std::uint64_t link_out = 0;  // bytes written to the relay link
  std::uint64_t tun_read = 0;
  std::uint64_t tun_write = 0;
};

struct OutputChunk {
  std::string text;  // whole lines, each ending "\r\n"
  int fd = -1;       // sent as SCM_RIGHTS with the chunk; borrowed, not owned
};

class ManagementCore {
 public:
  struct Hooks {
    std::function<std::time_t()> clock;         // wall clock for line times
    std::function<TrafficTotals()> totals;      // bytecount / status
    // network-change: the link fd to re-protect, -1 (no link) or -2 (the
    // link must be re-established: the core then throws SIGUSR1).
    std::function<int(bool same_network)> network_change;
  };

  ManagementCore(std::string title, long pid, bool hold, Hooks hooks);

  // Every later connection must first send this password (PWFILE's first
  // line). Empty: none.
  void require_password(std::string password) { password_ = std::move(password); }
  bool password_needed() const { return !password_.empty() && !password_verified_; }

  // A UI connected: greeting plus the pending query. Per-connection
  // settings (real-time state/log/echo, bytecount) start off.
  void on_connect();
  void on_disconnect();
  bool connected() const { return connected_; }

  // Descriptors received from the UI; the next needok answer takes the
  // oldest one. Leftovers are dropped by discard_received_fds().
  void add_received_fd(io::Fd fd) { received_fds_.push_back(std::move(fd)); }
  void discard_received_fds() { received_fds_.clear(); }

  // One line from the UI (already cut by LineReader).
  void handle_line(std::string_view line);
  // One read from the UI ended, having completed at least one line: the
  // password prompt is repeated then, as OpenVPN's man_read does.
  void end_of_read();
  // A line was discarded for being longer than kMaxLineLength.
  void note_overlong_line();

  // Daemon events.
  void set_state(StateEntry entry);  // time filled in when 0
  void log(std::string flags, std::string text);
  void begin_hold(int wait_seconds);
  bool in_hold() const { return query_ == Query::Hold; }
  bool hold_flag() const { return hold_; }
  // fd (borrowed) is attached to the NEED-OK line, as PROTECTFD needs.
  void begin_need_ok(std::string type, std::string payload, int fd = -1);
  bool need_ok_pending() const { return query_ == Query::NeedOk; }
  void cancel_query();  // the daemon stops waiting (restart, exit)
  // The daemon is about to close `fd`: queued output must not borrow it.
  void forget_descriptor(int fd);
  void fatal(std::string_view text);
  void emit_bytecount();  // called every bytecount_interval() seconds

  // What the UI asked for; each take_* clears it.
  std::optional<Signal> take_signal();
  bool take_hold_release();
  std::optional<NeedOkAnswer> take_need_ok_answer();
  bool take_close_request();  // exit/quit, or the last password try failed
  bool close_requested() const { return close_requested_; }

  int bytecount_interval() const { return bytecount_interval_; }

  // Bytes to send, in order.
  std::deque<OutputChunk>& output() { return output_; }
  const std::deque<OutputChunk>& output() const { return output_; }
  // Concatenated output text (tests).
  std::string drain_text();

 private:
  enum class Query { None, Hold, NeedOk };

  void send(std::string line, int fd = -1);
  void send_raw(std::string text);
  void reply_history(std::string_view parameter, const char* type, bool& realtime,
                     const std::deque<std::string>& history);
  void command_state_like(const std::vector<std::string>& args, const char* type, bool& realtime,
                          const std::deque<std::string>& history);
  void command_hold(const std::vector<std::string>& args);
  void command_signal(const std::string& name);
  void command_needok(const std::vector<std::string>& args);
  void command_network_change(bool same_network);
  void command_status();
  void command_load_stats();
  void command_verb(const std::vector<std::string>& args);
  void command_mute(const std::vector<std::string>& args);
  void check_password(std::string_view line);
  bool passes_mute(const std::string& category);
  void add_log_line(std::string flags, std::string text);
  void command_help();
  void throw_signal(Signal signal);
  void resend_query();
  void record(std::deque<std::string>& history, std::string line);

  std::string title_;
  long pid_;
  bool hold_;
  Hooks hooks_;
  bool connected_ = false;

  Query query_ = Query::None;
  int hold_wait_ = 0;
  std::string need_ok_type_;
  std::string need_ok_payload_;
  int need_ok_fd_ = -1;

  std::string password_;
  bool password_verified_ = false;
  int password_tries_ = 0;

  int verb_ = 3;
  int mute_ = 0;
  std::string mute_category_;
  long long mute_count_ = 0;

  bool state_realtime_ = false;
  bool log_realtime_ = false;
  bool echo_realtime_ = false;
  int bytecount_interval_ = 0;

  std::deque<std::string> state_history_;
  std::deque<std::string> log_history_;
  std::deque<std::string> echo_history_;

  std::optional<Signal> signal_;
  bool hold_released_ = false;
  std::optional<NeedOkAnswer> need_ok_answer_;
  bool close_requested_ = false;
  std::deque<io::Fd> received_fds_;
  std::deque<OutputChunk> output_;
};

}  // namespace rtether::mgmt
