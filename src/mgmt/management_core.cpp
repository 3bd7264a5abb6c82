// The daemon's management command interpreter; see management_core.hpp.
// Reply texts are OpenVPN 2.6's (manage.c), checked against the recorded
// transcripts in tests/mgmt/data/.
#include "mgmt/management_core.hpp"

#include <charconv>

#include <fmt/core.h>

#include "mgmt/line_reader.hpp"

namespace rtether::mgmt {
namespace {

// Lines of state, log and echo history kept for `state all` and the like.
constexpr std::size_t kHistoryLines = 1000;

// manage.h MANAGEMENT_N_PASSWORD_RETRIES.
constexpr int kPasswordTries = 3;
// The prompt, sent without a line end (manage.c man_prompt).
constexpr std::string_view kPasswordPrompt = "ENTER PASSWORD:";
// error.h M_DEBUG_LEVEL: the highest `verb`.
constexpr int kMaxVerb = 15;

// The `verb` level a log line needs, from its flags: fatal always, the
// informational, warning and non-fatal lines from 1 (M_INFO, M_WARN,
// M_NONFATAL), the management's own notes and debug lines from 3
// (D_MANAGEMENT, D_MANAGEMENT_DEBUG).
int log_level(std::string_view flags) {
  if (flags.find('F') != std::string_view::npos) return 0;
  if (flags.find_first_of("IWN") != std::string_view::npos) return 1;
  return 3;
}

// OpenVPN mutes by the message's call site; a line here is of the same
// category as another when its flags and its text up to the first digit
// or quote (where the variable part of a message starts) are the same.
std::string mute_category(std::string_view flags, std::string_view text) {
  auto end = text.find_first_of("0123456789'\"");
  return std::string(flags) + "," + std::string(text.substr(0, end));
}

// Compares every byte whatever the first difference, as OpenVPN's
// memcmp_constant_time, so the time taken tells nothing of the password.
bool same_password(std::string_view given, std::string_view expected) {
  unsigned difference = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < given.size(); ++i) {
    difference |= static_cast<unsigned char>(given[i]) ^
                  static_cast<unsigned char>(i < expected.size() ? expected[i] : 0);
  }
  return difference == 0;
}

int parse_int(std::string_view text) {
  // atoi() semantics, as OpenVPN: leading digits, anything else is 0.
  int value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// Our own command list, in OpenVPN's help layout.
constexpr const char* kHelpLines[] = {
    "Commands:",
    "bytecount n            : Show bytes in/out, update every n secs (0=off).",
    "echo [on|off] [N|all]  : Like log, but only show messages in echo buffer.",
    "exit|quit              : Close management session.",
    "help                   : Print this message.",
    "hold [on|off|release]  : Set/show hold flag to on/off state, or",
    "                         release current hold and start tunnel.",
    "load-stats             : Show global server load stats.",
    "log [on|off] [N|all]   : Turn on/off realtime log display",
    "                         + show last N lines or 'all' for entire history.",
    "mute [n]               : Set log mute level to n, or show level if n is absent.",
    "needok type action     : Enter confirmation for NEED-OK request of 'type',",
    "                         where action = 'ok' or 'cancel'.",
    "network-change [samenetwork] : Re-protect the relay socket (samenetwork)",
    "                         or restart the relay link.",
    "pid                    : Show process ID of the current OpenVPN process.",
    "signal s               : Send signal s to daemon,",
    "                         s = SIGHUP|SIGTERM|SIGUSR1|SIGUSR2.",
    "state [on|off] [N|all] : Like log, but show state history.",
    "status [n]             : Show current daemon status info using format #n.",
    "verb [n]               : Set log verbosity level to n, or show if n is absent.",
    "version [n]            : Set client's version to n or show current version of daemon.",
};

}  // namespace

std::optional<Signal> parse_signal(std::string_view name) {
  if (name == "SIGHUP") return Signal::Hup;
  if (name == "SIGTERM") return Signal::Term;
  if (name == "SIGUSR1") return Signal::Usr1;
  if (name == "SIGUSR2") return Signal::Usr2;
  if (name == "SIGINT") return Signal::Int;
  return std::nullopt;
}

const char* signal_name(Signal signal) {
  switch (signal) {
    case Signal::Hup: return "SIGHUP";
    case Signal::Term: return "SIGTERM";
    case Signal::Usr1: return "SIGUSR1";
    case Signal::Usr2: return "SIGUSR2";
    case Signal::Int: return "SIGINT";
  }
  return "SIGTERM";
}

ManagementCore::ManagementCore(std::string title, long pid, bool hold, Hooks hooks)
    : title_(std::move(title)), pid_(pid), hold_(hold), hooks_(std::move(hooks)) {
  if (!hooks_.clock) hooks_.clock = [] { return std::time(nullptr); };
  if (!hooks_.totals) hooks_.totals = [] { return TrafficTotals{}; };
}

void ManagementCore::send(std::string line, int fd) {
  line += "\r\n";
  if (!connected_ || password_needed()) return;
  // Lines without a descriptor join the previous chunk (fewer writes).
  if (fd < 0 && !output_.empty() && output_.back().fd < 0) {
    output_.back().text += line;
    return;
  }
  output_.push_back({std::move(line), fd});
}

void ManagementCore::send_raw(std::string text) {
  if (!output_.empty() && output_.back().fd < 0) {
    output_.back().text += text;
    return;
  }
  output_.push_back({std::move(text), -1});
}

std::string ManagementCore::drain_text() {
  std::string text;
  for (auto& chunk : output_) text += chunk.text;
  output_.clear();
  return text;
}

void ManagementCore::record(std::deque<std::string>& history, std::string line) {
  history.push_back(std::move(line));
  if (history.size() > kHistoryLines) history.pop_front();
}

void ManagementCore::on_connect() {
  connected_ = true;
  state_realtime_ = log_realtime_ = echo_realtime_ = false;
  bytecount_interval_ = 0;
  password_verified_ = false;
  password_tries_ = 0;
  close_requested_ = false;
  output_.clear();
  if (password_needed()) {
    send_raw(std::string(kPasswordPrompt));
    return;
  }
  send(info_greeting());
  resend_query();
}

void ManagementCore::check_password(std::string_view line) {
  if (same_password(line, password_)) {
    password_verified_ = true;
    send("SUCCESS: password is correct");
    send(info_greeting());
    resend_query();
    return;
  }
  if (++password_tries_ >= kPasswordTries) {
    log("W", fmt::format("MAN: client connection rejected after {} failed password attempts",
                         kPasswordTries));
    close_requested_ = true;
  }
}

void ManagementCore::end_of_read() {
  if (connected_ && password_needed() && !close_requested_) {
    send_raw(std::string(kPasswordPrompt));
  }
}

void ManagementCore::on_disconnect() {
  connected_ = false;
  state_realtime_ = log_realtime_ = echo_realtime_ = false;
  bytecount_interval_ = 0;
  output_.clear();
  received_fds_.clear();
}

void ManagementCore::resend_query() {
  if (query_ == Query::Hold) send(hold_line(hold_wait_));
  if (query_ == Query::NeedOk) send(need_ok_line(need_ok_type_, need_ok_payload_), need_ok_fd_);
}

void ManagementCore::note_overlong_line() {
  log("W", fmt::format("MANAGEMENT: discarded a command line longer than {} bytes", kMaxLineLength));
}

void ManagementCore::handle_line(std::string_view line) {
  // Once the session is to close (quit, or the last password try failed),
  // the rest of the read is not run: manage.c man_read stops at `halt`, so
  // one packet cannot carry more guesses, or commands after a right one.
  if (close_requested_) return;
  if (password_needed()) {
    check_password(line);
    return;
  }
  auto split = split_command(line);
  if (!split.error.empty()) {
    send(split.error);
    return;
  }
  const auto& args = split.arguments;
  if (args.empty()) return;
  const std::string& command = args[0];
  // OpenVPN leaves load-stats, which monitors poll, out of its log.
  if (line != "load-stats") log("D", fmt::format("MANAGEMENT: CMD '{}'", line));
  auto need = [&](std::size_t count, const char* at_least = "") {
    if (args.size() > count) return true;
    send(fmt::format("ERROR: the '{}' command requires {}{} parameter{}", command, at_least,
                     count, count == 1 ? "" : "s"));
    return false;
  };
  if (command == "help") {
    command_help();
  } else if (command == "version") {
    // With an argument the UI announces its own version: no reply.
    if (args.size() < 2) {
      send("OpenVPN Version: " + title_);
      send(fmt::format("Management Version: {}", kManagementVersion));
      send("END");
    }
  } else if (command == "pid") {
    send(fmt::format("SUCCESS: pid={}", pid_));
  } else if (command == "hold") {
    command_hold(args);
  } else if (command == "bytecount") {
    if (!need(1)) return;
    bytecount_interval_ = std::max(0, parse_int(args[1]));
    send("SUCCESS: bytecount interval changed");
  } else if (command == "state") {
    command_state_like(args, "state", state_realtime_, state_history_);
  } else if (command == "log") {
    if (!need(1, "at least ")) return;
    command_state_like(args, "log", log_realtime_, log_history_);
  } else if (command == "echo") {
    if (!need(1, "at least ")) return;
    command_state_like(args, "echo", echo_realtime_, echo_history_);
  } else if (command == "signal") {
    if (!need(1)) return;
    command_signal(args[1]);
  } else if (command == "needok") {
    if (!need(2)) return;
    command_needok(args);
  } else if (command == "status") {
    // `status N` picks a layout for a server's client list; a client's
    // statistics have one layout (init.c management_callback_status_p2p).
    command_status();
  } else if (command == "load-stats") {
    command_load_stats();
  } else if (command == "verb") {
    command_verb(args);
  } else if (command == "mute") {
    command_mute(args);
  } else if (command == "network-change" && hooks_.network_change) {
    command_network_change(args.size() > 1 && args[1] == "samenetwork");
  } else if (command == "exit" || command == "quit") {
    close_requested_ = true;
  } else {
    send("ERROR: unknown command, enter 'help' for more options");
  }
}

void ManagementCore::command_help() {
  send("Management Interface for " + title_);
  for (const char* line : kHelpLines) send(line);
  send("END");
}

void ManagementCore::command_hold(const std::vector<std::string>& args) {
  if (args.size() < 2) {
    send(fmt::format("SUCCESS: hold={}", hold_ ? 1 : 0));
  } else if (args[1] == "on") {
    hold_ = true;
    send("SUCCESS: hold flag set to ON");
  } else if (args[1] == "off") {
    hold_ = false;
    send("SUCCESS: hold flag set to OFF");
  } else if (args[1] == "release") {
    if (query_ == Query::Hold) {
      query_ = Query::None;
      hold_released_ = true;
    }
    send("SUCCESS: hold release succeeded");
  } else {
    send("ERROR: bad hold command parameter");
  }
}

void ManagementCore::reply_history(std::string_view parameter, const char* type, bool& realtime,
                                   const std::deque<std::string>& history) {
  if (parameter == "on") {
    realtime = true;
    send(fmt::format("SUCCESS: real-time {} notification set to ON", type));
  } else if (parameter == "off") {
    realtime = false;
    send(fmt::format("SUCCESS: real-time {} notification set to OFF", type));
  } else if (parameter == "all") {
    for (const auto& line : history) send(line);
    send("END");
  } else if (int count = parse_int(parameter); count > 0) {
    std::size_t first = history.size() > static_cast<std::size_t>(count)
                            ? history.size() - static_cast<std::size_t>(count)
                            : 0;
    for (std::size_t i = first; i < history.size(); ++i) send(history[i]);
    send("END");
  } else {
    send(fmt::format("ERROR: {} parameter must be 'on' or 'off' or some number n or 'all'", type));
  }
}

void ManagementCore::command_state_like(const std::vector<std::string>& args, const char* type,
                                        bool& realtime, const std::deque<std::string>& history) {
  if (args.size() < 2) {
    reply_history("1", type, realtime, history);
    return;
  }
  reply_history(args[1], type, realtime, history);
  if (args.size() > 2) reply_history(args[2], type, realtime, history);
}

void ManagementCore::command_signal(const std::string& name) {
  auto signal = parse_signal(name);
  if (!signal) {
    send(fmt::format("ERROR: signal '{}' is not a known signal type", name));
    return;
  }
  if (query_ == Query::Hold && (*signal == Signal::Usr1 || *signal == Signal::Hup)) {
    send(fmt::format("ERROR: signal '{}' is currently ignored", name));
    send(hold_line(hold_wait_));
    return;
  }
  throw_signal(*signal);
}

void ManagementCore::throw_signal(Signal signal) {
  send(fmt::format("SUCCESS: signal {} thrown", signal_name(signal)));
  // A stop outranks a restart that is not handled yet.
  if (!signal_ || signal == Signal::Term || signal == Signal::Int) signal_ = signal;
}

void ManagementCore::command_needok(const std::vector<std::string>& args) {
  if (query_ != Query::NeedOk) {
    send("ERROR: no needok-confirmation is currently needed at this time");
    return;
  }
  if (args[1] != need_ok_type_) {
    send(fmt::format("ERROR: needok-confirmation of type '{}' entered, but we need one of type '{}'",
                     args[1], need_ok_type_));
    return;
  }
  NeedOkAnswer answer{args[1], args[2], {}};
  if (!received_fds_.empty()) {
    answer.fd = std::move(received_fds_.front());
    received_fds_.pop_front();
  }
  need_ok_answer_ = std::move(answer);
  query_ = Query::None;
  need_ok_fd_ = -1;
  send(need_ok_success(args[1]));
}

void ManagementCore::command_network_change(bool same_network) {
  int fd = hooks_.network_change(same_network);
  send(protect_fd_reply(fd), fd >= 0 ? fd : -1);
  if (fd == -2) throw_signal(Signal::Usr1);
}

void ManagementCore::command_status() {
  auto totals = hooks_.totals();
  std::time_t now = hooks_.clock();
  std::tm local{};
  localtime_r(&now, &local);
  char updated[32];
  std::strftime(updated, sizeof updated, "%Y-%m-%d %H:%M:%S", &local);
  send("OpenVPN STATISTICS");
  send(fmt::format("Updated,{}", updated));
  send(fmt::format("TUN/TAP read bytes,{}", totals.tun_read));
  send(fmt::format("TUN/TAP write bytes,{}", totals.tun_write));
  send(fmt::format("TCP/UDP read bytes,{}", totals.link_in));
  send(fmt::format("TCP/UDP write bytes,{}", totals.link_out));
  // OpenVPN counts the link bytes that passed its data-channel
  // authentication here; every byte the relay link delivers is accepted.
  send(fmt::format("Auth read bytes,{}", totals.link_in));
  send("END");
}

void ManagementCore::command_load_stats() {
  // A client has no clients of its own (manage.c man_load_stats: the
  // n_clients callback is a server's).
  auto totals = hooks_.totals();
  send(fmt::format("SUCCESS: nclients=0,bytesin={},bytesout={}", totals.link_in, totals.link_out));
}

void ManagementCore::command_verb(const std::vector<std::string>& args) {
  if (args.size() < 2) {
    send(fmt::format("SUCCESS: verb={}", verb_));
    return;
  }
  int level = parse_int(args[1]);
  if (level < 0 || level > kMaxVerb) {
    send("ERROR: verb level is out of range");
    return;
  }
  verb_ = level;
  send("SUCCESS: verb level changed");
}

void ManagementCore::command_mute(const std::vector<std::string>& args) {
  if (args.size() < 2) {
    send(fmt::format("SUCCESS: mute={}", mute_));
    return;
  }
  int level = parse_int(args[1]);
  if (level < 0) {
    send("ERROR: mute level is out of range");
    return;
  }
  mute_ = level;
  send("SUCCESS: mute level changed");
}

void ManagementCore::set_state(StateEntry entry) {
  if (entry.time == 0) entry.time = hooks_.clock();
  std::string line = format_state(entry);
  log("", "MANAGEMENT: >STATE:" + line);
  if (state_realtime_) send(">STATE:" + line);
  record(state_history_, std::move(line));
}

void ManagementCore::log(std::string flags, std::string text) {
  if (log_level(flags) > verb_) return;
  if (!passes_mute(mute_category(flags, text))) return;
  add_log_line(std::move(flags), std::move(text));
}

bool ManagementCore::passes_mute(const std::string& category) {
  // error.c dont_mute; its notes are never muted themselves.
  if (mute_ <= 0) return true;
  bool notes = log_level("I") <= verb_;
  if (category == mute_category_) {
    if (mute_count_ == mute_ && notes) add_log_line("I", "NOTE: --mute triggered...");
    return ++mute_count_ <= mute_;
  }
  if (int suppressed = mute_count_ - mute_; suppressed > 0 && notes) {
    add_log_line("I", fmt::format("{} variation(s) on previous {} message(s) suppressed by --mute",
                                  suppressed, mute_));
  }
  mute_count_ = 1;
  mute_category_ = category;
  return true;
}

void ManagementCore::add_log_line(std::string flags, std::string text) {
  std::string line = format_log({hooks_.clock(), std::move(flags), std::move(text)});
  if (log_realtime_) send(">LOG:" + line);
  record(log_history_, std::move(line));
}

void ManagementCore::begin_hold(int wait_seconds) {
  query_ = Query::Hold;
  hold_wait_ = wait_seconds;
  hold_released_ = false;
  send(hold_line(wait_seconds));
}

void ManagementCore::begin_need_ok(std::string type, std::string payload, int fd) {
  query_ = Query::NeedOk;
  need_ok_type_ = std::move(type);
  need_ok_payload_ = std::move(payload);
  need_ok_fd_ = fd;
  need_ok_answer_.reset();
  send(need_ok_line(need_ok_type_, need_ok_payload_), fd);
}

void ManagementCore::cancel_query() {
  query_ = Query::None;
  need_ok_fd_ = -1;
  // A queued chunk may still borrow the descriptor the daemon is about to
  // close: send its text without it.
  for (auto& chunk : output_) chunk.fd = -1;
}

void ManagementCore::forget_descriptor(int fd) {
  if (fd < 0) return;
  for (auto& chunk : output_) {
    if (chunk.fd == fd) chunk.fd = -1;
  }
  if (need_ok_fd_ == fd) need_ok_fd_ = -1;
}

void ManagementCore::fatal(std::string_view text) {
  log("F", std::string(text));
  send(fatal_line(text));
}

void ManagementCore::emit_bytecount() {
  auto totals = hooks_.totals();
  send(bytecount_line(totals.link_in, totals.link_out));
}

std::optional<Signal> ManagementCore::take_signal() { return std::exchange(signal_, std::nullopt); }

bool ManagementCore::take_hold_release() { return std::exchange(hold_released_, false); }

std::optional<NeedOkAnswer> ManagementCore::take_need_ok_answer() {
  return std::exchange(need_ok_answer_, std::nullopt);
}

bool ManagementCore::take_close_request() { return std::exchange(close_requested_, false); }

}  // namespace rtether::mgmt
