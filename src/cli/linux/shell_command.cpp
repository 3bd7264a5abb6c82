// `rtether shell`: a command (default: an interactive shell) in a fresh
// network namespace whose only way out is rtether, with no setup by hand.
//
// Lifecycle: create namespace NAME -> start `rtether relay --netns NAME
// --ready-fd N` (direct mode: the relay opens the tun in NAME itself and
// serves it, cli/direct_mode.hpp) -> wait for "ready" -> bring `lo` up in
// NAME -> run CMD inside NAME (with /etc/netns/NAME/resolv.conf
// bind-mounted as `ip netns exec` does) -> wait for CMD -> stop the relay
// (SIGTERM, then SIGKILL) -> delete NAME. The exit status is CMD's
// (128+signal if it was killed). With --separate the path of a phone or a
// VM is taken instead: `rtether relay` on an abstract UNIX socket and
// `rtether client --netns NAME --ready-fd N` linked to it by a stream; the
// client is stopped before the relay.
//
// Signals: like system(), this process ignores SIGINT/SIGQUIT while CMD
// runs so Ctrl+C reaches CMD only; relay and client run in their own
// process group so the terminal's Ctrl+C never reaches them. SIGTERM/SIGHUP
// are passed on to CMD. Children are tracked by PID through a signalfd
// (SIGCHLD), so a relay or client that dies is reported at once.
//
// Not root (direct mode only): no named namespace (that needs root); a
// holder process made in a new user, network and mount namespace instead
// (device::UserNamespaceSandbox, as `unshare -rn` and `pasta --config-net`
// make one: lo up, our uid and gid mapped to 0, a private resolv.conf with
// the relay's DNS 10.0.2.3 bind-mounted on /etc/resolv.conf) -> `rtether
// relay --netns HOLDER_PID --ready-fd N` (which, not being root, makes the
// tun in the holder's user namespace) -> CMD joins the holder's namespaces
// -> at the end the relay and the holder are stopped; nothing is left on
// the host.
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/app.hpp"
#include "device/link_configurator.hpp"
#include "device/netns.hpp"
#include "device/resolv_conf.hpp"
#include "device/user_namespace.hpp"
#include "io/socket.hpp"
#include "io/log.hpp"
#include "io/process.hpp"
#include "io/signal_watcher.hpp"
#include "io/unix_socket_table.hpp"

namespace rtether::cli {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kReadyTimeout = 15s;     // relay start + connect + tun setup
constexpr auto kStopTimeout = 3s;       // SIGTERM grace before SIGKILL
constexpr auto kCommandStopTimeout = 5s;
// The relay's DNS forwarder, as seen from the tun.
constexpr const char* kDnsServer = "10.0.2.3";

struct ShellOptions {
  int mtu = 0;  // 0: the client's default
  std::string netns;
  bool separate = false;  // relay + client over a stream instead of direct mode
  std::vector<std::string> command;
};

// A command that cannot be run, as a POSIX shell says it (XCU 2.8.2): not
// found, or found but not executable.
constexpr int kCommandNotFound = 127;
constexpr int kCommandNotExecutable = 126;

std::string self_executable(const char* fallback) {
  char path[PATH_MAX];
  ssize_t length = readlink("/proc/self/exe", path, sizeof path - 1);
  if (length <= 0) return fallback;
  return std::string(path, static_cast<std::size_t>(length));
}

// A helper child (relay or client): own process group, `keep_fd` inherited.
io::Process spawn_helper(const std::vector<std::string>& argv, int keep_fd) {
  io::SpawnOptions options;
  options.argv = argv;
  if (keep_fd >= 0) options.redirects.push_back({keep_fd, keep_fd});
  options.own_process_group = true;
  io::SpawnResult spawned = io::spawn(options);
  if (!spawned.process.started()) throw std::runtime_error(spawned.failure);
  return std::move(spawned.process);
}

// A child process we own, named for the log.
struct Child {
  const char* role;
  io::Process process;

  // True when it ended just now (not when it had ended before).
  bool ended_now() {
    if (!process.running()) return false;
    return process.poll();
  }

  void stop(std::chrono::milliseconds grace) {
    if (!process.running()) return;
    if (!process.stop(grace)) {
      log::warn("{} (pid {}) ignored SIGTERM; killed it", role, process.pid());
    }
  }
};

class Shell {
 public:
  Shell(ShellOptions options, std::string self)
      : options_(std::move(options)), self_(std::move(self)) {}
  ~Shell() { tear_down(); }

  int run();

 private:
  void block_signals();
  void start_helpers();
  void start_separate_helpers(const std::string& verbosity, int ready_fd);
  bool wait_until_ready();
  int run_command();
  void tear_down();
  // Reaps children after SIGCHLD; returns the pending non-SIGCHLD signal, 0 if none.
  int drain_signals();
  bool helper_died();
  // The helper that brings the tun up: the relay in direct mode.
  const char* helper_name() const { return options_.separate ? "client" : "relay"; }

  ShellOptions options_;
  std::string self_;
  std::unique_ptr<device::UserNamespaceSandbox> sandbox_;  // not root: the namespace
  std::string netns_;
  bool netns_created_ = false;
  int interrupted_by_ = 0;  // signal that stopped us before CMD ran
  io::Fd signal_fd_;
  io::Fd ready_read_;
  Child relay_{"relay", {}};
  Child client_{"client", {}};
  Child command_{"command", {}};
};

void Shell::block_signals() {
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  signal_fd_ = io::block_into_signal_fd({SIGCHLD, SIGTERM, SIGHUP});
}

int Shell::drain_signals() {
  int pending = 0;
  signalfd_siginfo info{};
  while (read(signal_fd_.get(), &info, sizeof info) == sizeof info) {
    if (info.ssi_signo != SIGCHLD) pending = static_cast<int>(info.ssi_signo);
  }
  command_.process.poll();
  return pending;
}

bool Shell::helper_died() {
  for (Child* child : {&relay_, &client_}) {
    if (child->ended_now()) {
      log::error("{} exited early ({})", child->role, child->process.status()->description());
      return true;
    }
  }
  return false;
}

void Shell::start_helpers() {
  bool debug = log::level() <= log::Level::Debug;
  // Helpers are quiet unless -v: their info lines would land in the user's
  // interactive shell. Warnings (lost relay, reconnecting) still show.
  std::string verbosity = debug ? "-v" : "-q";
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) < 0) {
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  ready_read_ = io::Fd(ready[0]);
  io::Fd ready_write(ready[1]);
  if (options_.separate) return start_separate_helpers(verbosity, ready_write.get());
  std::vector<std::string> relay = {self_,     verbosity,   "relay",
                                    "--netns", netns_,      "--ready-fd",
                                    std::to_string(ready_write.get())};
  if (options_.mtu > 0) {
    relay.push_back("--mtu");
    relay.push_back(std::to_string(options_.mtu));
  }
  relay_.process = spawn_helper(relay, ready_write.get());
}

void Shell::start_separate_helpers(const std::string& verbosity, int ready_fd) {
  std::string socket_name = "@rtether-shell-" + std::to_string(getpid());
  relay_.process = spawn_helper({self_, verbosity, "relay", "--unix", socket_name, "--no-tcp"}, -1);
  // Start the client only once the relay listens, so its first connect
  // succeeds instead of warning and backing off.
  auto deadline = Clock::now() + kReadyTimeout;
  while (!io::unix_socket_listening(socket_name)) {
    if (helper_died()) throw std::runtime_error("relay failed to start");
    if (Clock::now() > deadline) throw std::runtime_error("relay did not start listening");
    usleep(10000);
  }
  std::vector<std::string> client = {self_, verbosity, "client", "--relay", "unix:" + socket_name,
                                     "--netns", netns_, "--ready-fd", std::to_string(ready_fd)};
  if (options_.mtu > 0) {
    client.push_back("--mtu");
    client.push_back(std::to_string(options_.mtu));
  }
  client_.process = spawn_helper(client, ready_fd);
}

bool Shell::wait_until_ready() {
  auto deadline = Clock::now() + kReadyTimeout;
  std::string received;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left <= 0ms) {
      log::error("{} did not bring the tun up within {} s", helper_name(), kReadyTimeout.count());
      return false;
    }
    pollfd fds[2] = {{ready_read_.get(), POLLIN, 0}, {signal_fd_.get(), POLLIN, 0}};
    if (poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) {
      log::error("poll: {}", std::strerror(errno));
      return false;
    }
    if (fds[1].revents & POLLIN) {
      if (int signal_number = drain_signals()) {
        log::error("interrupted by {} before the command started", strsignal(signal_number));
        interrupted_by_ = signal_number;
        return false;
      }
      if (helper_died()) return false;
    }
    if (fds[0].revents != 0) {
      char buffer[128];
      ssize_t n = read(ready_read_.get(), buffer, sizeof buffer);
      if (n > 0) {
        received.append(buffer, static_cast<std::size_t>(n));
        if (received.find('\n') != std::string::npos) return received.starts_with("ready");
        continue;
      }
      // End of file without "ready": the helper failed; its log says why.
      if (!helper_died()) {
        log::error("{} closed --ready-fd without bringing the tun up", helper_name());
      }
      return false;
    }
  }
}

int Shell::run_command() {
  std::vector<std::string> argv = options_.command;
  if (argv.empty()) {
    const char* shell = std::getenv("SHELL");
    argv.push_back(shell != nullptr && *shell != '\0' ? shell : "/bin/sh");
  }
  // This process is single-threaded, so the child may enter the namespace
  // between fork and exec.
  io::SpawnOptions options;
  options.argv = argv;
  options.before_exec = [this](std::string& error) {
    if (sandbox_) return sandbox_->enter_for_exec(error);
    return device::enter_netns_for_exec(netns_, error);
  };
  io::SpawnResult spawned = io::spawn(options);
  if (!spawned.process.started()) {
    log::error("{}", spawned.failure);
    return spawned.error == std::errc::no_such_file_or_directory ? kCommandNotFound
                                                                 : kCommandNotExecutable;
  }
  command_.process = std::move(spawned.process);
  bool client_lost_reported = false;
  bool kill_pending = false;  // a signal was passed on; SIGKILL at kill_at
  Clock::time_point kill_at;
  while (command_.process.running()) {
    int timeout = -1;
    if (kill_pending) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(kill_at - Clock::now());
      timeout = static_cast<int>(std::max<std::int64_t>(left.count(), 0));
    }
    pollfd fd{signal_fd_.get(), POLLIN, 0};
    int ready = poll(&fd, 1, timeout);
    if (ready == 0 && kill_pending) {
      log::warn("command did not stop after SIGTERM; killing it");
      command_.process.kill(SIGKILL);
      kill_pending = false;
      continue;
    }
    if (int signal_number = drain_signals()) {
      command_.process.kill(signal_number);
      if (!kill_pending) kill_at = Clock::now() + kCommandStopTimeout;
      kill_pending = true;
    }
    // The command keeps running (killing a user's shell loses their work),
    // but they learn at once that the network is gone.
    if (!client_lost_reported && helper_died()) {
      log::error("the namespace has no network any more");
      client_lost_reported = true;
    }
  }
  return command_.process.status()->shell_code();
}

void Shell::tear_down() {
  command_.stop(kCommandStopTimeout);
  // Client first (--separate): it removes the tun and resolv.conf while the
  // relay is up.
  client_.stop(kStopTimeout);
  relay_.stop(kStopTimeout);
  sandbox_.reset();
  if (!netns_created_) return;
  device::ResolvConf::remove_for(netns_);
  std::string error;
  if (!device::delete_netns(netns_, error)) log::error("{}", error);
  netns_created_ = false;
}

int Shell::run() {
  if (geteuid() != 0) {
    if (options_.separate || !options_.netns.empty()) {
      throw std::runtime_error(std::string(options_.separate ? "--separate" : "--netns") +
                               " needs root (a named namespace); without root rtether shell "
                               "makes a user namespace and serves it in direct mode");
    }
    block_signals();
    sandbox_ = std::make_unique<device::UserNamespaceSandbox>("nameserver " +
                                                              std::string(kDnsServer) + "\n");
    netns_ = std::to_string(sandbox_->pid());
    start_helpers();
    if (!wait_until_ready()) return interrupted_by_ != 0 ? 128 + interrupted_by_ : 1;
    log::info("user and network namespace of process {} are ready", netns_);
    return run_command();
  }
  netns_ = options_.netns.empty() ? "rtether-shell-" + std::to_string(getpid()) : options_.netns;
  if (device::netns_exists(netns_)) {
    throw std::runtime_error("network namespace '" + netns_ + "' already exists");
  }
  block_signals();
  device::create_netns(netns_);
  netns_created_ = true;
  start_helpers();
  if (!wait_until_ready()) return interrupted_by_ != 0 ? 128 + interrupted_by_ : 1;
  {
    device::NetnsGuard inside(netns_);
    device::LinkConfigurator links;
    links.set_up(static_cast<int>(if_nametoindex("lo")));
  }
  log::info("network namespace {} is ready", netns_);
  return run_command();
}

}  // namespace

void register_shell(CLI::App& app, CommandBody& body, const char* self_path) {
  auto options = std::make_shared<ShellOptions>();
  auto* command = app.add_subcommand(
      "shell", "Run a command (default: $SHELL) in a new network namespace reached only "
               "through rtether (a relay serving the namespace's tun directly, started and "
               "stopped for you). Not root: a new user namespace (your uid as 0 inside) with "
               "its own network and mount namespaces, as `unshare -rn` makes, and no "
               "--separate or --netns");
  command->add_option("--mtu", options->mtu, "Tun MTU (default: the client's)")
      ->check(CLI::Range(68, 65535));
  command->add_flag("--separate", options->separate,
                    "Reach the namespace the way a phone or a VM does: a separate `rtether "
                    "client` linked to the relay by a stream, instead of direct mode");
  command->add_option("--netns", options->netns,
                      "Name of the namespace to create (default: rtether-shell-PID)");
  command->add_option("command", options->command, "Command and arguments, after --");
  std::string self = self_executable(self_path);
  command->callback([&body, options, self] {
    body = [options, self] { return Shell(*options, self).run(); };
  });
}

}  // namespace rtether::cli
