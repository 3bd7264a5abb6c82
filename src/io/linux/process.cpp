// spawn (fork + exec with a report pipe), Process (waitpid), ExitStatus and
// run_process (pipes and a poll loop); see process.hpp.
#include "io/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <utility>

#include "io/socket.hpp"

extern char** environ;

namespace rtether::io {

namespace {
using Clock = std::chrono::steady_clock;

constexpr auto kWaitStep = std::chrono::milliseconds(10);
constexpr auto kCancelCheck = std::chrono::milliseconds(100);
constexpr auto kOutputGrace = std::chrono::milliseconds(200);
constexpr std::size_t kMaxCaptured = 4 << 20;  // output kept per stream
// glibc's execvp search path when PATH is unset.
constexpr const char* kDefaultSearchPath = "/bin:/usr/bin";
// A child that could not exec exits with this, as a shell does for a
// command it cannot run; the parent reports the reason instead.
constexpr int kExecFailedCode = 127;

// What a child that failed before exec writes to the report pipe, followed
// by before_exec's message (if it was that step).
struct FailureReport {
  int error;
  bool before_exec;
};

// Where execvp would look for argv[0], in order.
std::vector<std::string> exec_candidates(const std::string& program) {
  if (program.find('/') != std::string::npos) return {program};
  const char* path = std::getenv("PATH");
  std::string search = path != nullptr ? path : kDefaultSearchPath;
  std::vector<std::string> candidates;
  std::size_t start = 0;
  for (;;) {
    std::size_t end = search.find(':', start);
    std::string directory = search.substr(start, end - start);
    // An empty entry is the current directory (POSIX XBD 8.3, PATH).
    candidates.push_back((directory.empty() ? "." : directory) + "/" + program);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return candidates;
}

void write_all(int fd, const void* data, std::size_t size) {
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t written = ::write(fd, bytes, size);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;
    bytes += written;
    size -= static_cast<std::size_t>(written);
  }
}

// The child between fork and exec: async-signal-safe calls only, but for
// the caller's before_exec step.
[[noreturn]] void become(const SpawnOptions& options, const std::vector<char*>& argv,
                         const std::vector<std::string>& candidates, int report) {
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  for (int signal = 1; signal < NSIG; ++signal) ::sigaction(signal, &default_action, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (options.own_process_group) ::setpgid(0, 0);
  auto fail = [report](int error, bool before_exec, const std::string* message) {
    FailureReport header{error, before_exec};
    write_all(report, &header, sizeof header);
    if (message != nullptr) write_all(report, message->data(), message->size());
    ::_exit(kExecFailedCode);
  };
  for (const auto& redirect : options.redirects) {
    int done = redirect.to == redirect.from ? ::fcntl(redirect.to, F_SETFD, 0)
                                            : ::dup2(redirect.from, redirect.to);
    if (done < 0) fail(errno, false, nullptr);
  }
  if (options.before_exec) {
    std::string message;
    if (!options.before_exec(message)) fail(errno, true, &message);
  }
  // As execvp: a candidate that is not there is skipped; EACCES is kept
  // for the end unless a later one runs; other errors stop the search.
  int error = ENOENT;
  bool denied = false;
  for (const auto& candidate : candidates) {
    ::execve(candidate.c_str(), argv.data(), environ);
    error = errno;
    if (error == EACCES) {
      denied = true;
    } else if (error != ENOENT && error != ENOTDIR) {
      break;
    }
  }
  fail(denied && (error == ENOENT || error == ENOTDIR) ? EACCES : error, false, nullptr);
  ::_exit(kExecFailedCode);
}

// The report pipe's write end, kept clear of the descriptors a redirect
// may target (a parent started with stdin closed gets fd 0 from pipe2).
bool open_report_pipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end = Fd(fds[0]);
  write_end = Fd(fds[1]);
  constexpr int kFirstFreeFd = 3;
  if (write_end.get() < kFirstFreeFd) {
    Fd moved(::fcntl(write_end.get(), F_DUPFD_CLOEXEC, kFirstFreeFd));
    if (!moved.valid()) return false;
    write_end = std::move(moved);
  }
  return true;
}
}  // namespace

ExitStatus ExitStatus::from_wait_status(int status) {
  if (WIFSIGNALED(status)) return signalled(WTERMSIG(status));
  return exited(WEXITSTATUS(status));
}

std::string ExitStatus::description() const {
  if (kind_ == Kind::Exited) return "exit status " + std::to_string(number_);
  const char* name = sigabbrev_np(number_);
  const char* text = sigdescr_np(number_);
  if (name == nullptr || text == nullptr) return "signal " + std::to_string(number_);
  return std::string("signal SIG") + name + " (" + text + ")";
}

Process::~Process() {
  if (!running()) return;
  kill(SIGKILL);
  reap_now();
}

Process::Process(Process&& other) noexcept
    : native_(std::exchange(other.native_, kNoProcess)),
      status_(std::exchange(other.status_, std::nullopt)) {}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    if (running()) {
      kill(SIGKILL);
      reap_now();
    }
    native_ = std::exchange(other.native_, kNoProcess);
    status_ = std::exchange(other.status_, std::nullopt);
  }
  return *this;
}

ProcessId Process::pid() const { return native_; }

bool Process::poll() {
  if (!running()) return started();
  int status = 0;
  pid_t reaped = ::waitpid(static_cast<pid_t>(native_), &status, WNOHANG);
  if (reaped == native_) status_ = ExitStatus::from_wait_status(status);
  return status_.has_value();
}

bool Process::wait_for(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!poll()) {
    auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(left, kWaitStep));
  }
  return true;
}

ExitStatus Process::wait() {
  if (running()) reap_now();
  return *status_;
}

void Process::reap_now() {
  int status = 0;
  while (::waitpid(static_cast<pid_t>(native_), &status, 0) < 0 && errno == EINTR) {
  }
  status_ = ExitStatus::from_wait_status(status);
}

void Process::kill(int signal) const {
  if (running()) ::kill(static_cast<pid_t>(native_), signal);
}

bool Process::stop(std::chrono::milliseconds grace) {
  if (!running()) return true;
  kill(SIGTERM);
  if (wait_for(grace)) return true;
  kill(SIGKILL);
  reap_now();
  return false;
}

SpawnResult spawn(const SpawnOptions& options) {
  SpawnResult result;
  if (options.argv.empty()) {
    result.error = std::make_error_code(std::errc::invalid_argument);
    result.failure = "cannot run an empty command";
    return result;
  }
  const std::string& program = options.argv.front();
  // Everything the child needs is allocated here, before fork.
  std::vector<std::string> candidates = exec_candidates(program);
  std::vector<char*> argv;
  for (const auto& arg : options.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  Fd report_read, report_write;
  if (!open_report_pipe(report_read, report_write)) {
    result.error = std::error_code(errno, std::system_category());
    result.failure = "cannot run " + program + ": pipe: " + result.error.message();
    return result;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    result.error = std::error_code(errno, std::system_category());
    result.failure = "cannot run " + program + ": fork: " + result.error.message();
    return result;
  }
  if (pid == 0) become(options, argv, candidates, report_write.get());
  // Also here, so that the group exists before spawn() returns.
  if (options.own_process_group) ::setpgid(pid, pid);
  report_write.reset();
  Process child(pid);
  // End of file: exec succeeded (the pipe was close-on-exec).
  std::string report;
  char buffer[512];
  for (;;) {
    ssize_t got = ::read(report_read.get(), buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    report.append(buffer, static_cast<std::size_t>(got));
  }
  if (report.size() < sizeof(FailureReport)) {
    result.process = std::move(child);
    return result;
  }
  child.wait();
  FailureReport header;
  std::memcpy(&header, report.data(), sizeof header);
  result.error = std::error_code(header.error, std::system_category());
  result.failure = header.before_exec ? report.substr(sizeof header)
                                      : "cannot run " + program + ": " + result.error.message();
  return result;
}

bool fd_readable(int fd) {
  if (fd < 0) return false;
  pollfd probe{fd, POLLIN, 0};
  return ::poll(&probe, 1, 0) > 0 && (probe.revents & POLLIN) != 0;
}

ProcessResult run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const std::atomic<bool>* cancel, int cancel_fd,
                          bool own_process_group) {
  ProcessResult result;
  if ((cancel != nullptr && cancel->load()) || fd_readable(cancel_fd)) {
    result.cancelled = true;
    return result;
  }
  Fd no_input(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  int out_fds[2], err_fds[2];
  if (!no_input.valid() || ::pipe2(out_fds, O_CLOEXEC) != 0) {
    result.spawn_error = std::error_code(errno, std::system_category());
    return result;
  }
  Fd out_read(out_fds[0]), out_write(out_fds[1]);
  if (::pipe2(err_fds, O_CLOEXEC) != 0) {
    result.spawn_error = std::error_code(errno, std::system_category());
    return result;
  }
  Fd err_read(err_fds[0]), err_write(err_fds[1]);
  SpawnOptions options;
  options.argv = argv;
  options.redirects = {{STDIN_FILENO, no_input.get()},
                       {STDOUT_FILENO, out_write.get()},
                       {STDERR_FILENO, err_write.get()}};
  options.own_process_group = own_process_group;
  SpawnResult spawned = spawn(options);
  if (!spawned.process.started()) {
    result.spawn_error = spawned.error;
    return result;
  }
  Process& child = spawned.process;
  result.started = true;
  out_write.reset();
  err_write.reset();

  const auto deadline = Clock::now() + timeout;
  pollfd fds[3] = {
      {out_read.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}, {cancel_fd, POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_streams = 2;
  bool exited = false;
  auto exited_at = deadline;
  for (;;) {
    auto now = Clock::now();
    if (exited && (open_streams == 0 || now - exited_at > kOutputGrace)) break;
    if (!exited && ((cancel != nullptr && cancel->load()) || (fds[2].revents & POLLIN) != 0)) {
      result.cancelled = true;
      break;
    }
    if (!exited && now >= deadline) {
      result.timed_out = true;
      break;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    int wait_ms =
        static_cast<int>(std::clamp(left, std::chrono::milliseconds(1), kCancelCheck).count());
    if (exited) wait_ms = static_cast<int>(kOutputGrace.count());
    // After the child's exit the cancel fd no longer matters (-1: ignored).
    if (exited) fds[2].fd = -1;
    fds[2].revents = 0;
    int ready = ::poll(fds, 3, wait_ms);
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; ready > 0 && i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
      if (got > 0) {
        if (sinks[i]->size() < kMaxCaptured)
          sinks[i]->append(buffer, static_cast<std::size_t>(got));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        fds[i].fd = -1;
        --open_streams;
      }
    }
    // A daemon the child started may keep the pipes open: the child's own
    // exit, not the end of its output, ends the wait (after a short grace).
    if (!exited && child.poll()) {
      exited = true;
      exited_at = Clock::now();
    }
  }
  child.kill(SIGKILL);
  result.status = child.wait();
  return result;
}

}  // namespace rtether::io
