// run_process: posix_spawnp with pipes and a poll loop; see process.hpp.
#include "adb/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

extern char** environ;

namespace rtether::adb {

namespace {
constexpr auto kCancelCheck = std::chrono::milliseconds(100);
constexpr auto kOutputGrace = std::chrono::milliseconds(200);
constexpr std::size_t kMaxCaptured = 4 << 20;  // adb output we keep per stream

struct Pipe {
  int read_end = -1;
  int write_end = -1;
  ~Pipe() {
    if (read_end >= 0) ::close(read_end);
    if (write_end >= 0) ::close(write_end);
  }
  bool open() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    read_end = fds[0];
    write_end = fds[1];
    return true;
  }
};

class SpawnSetup {
 public:
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions_);
    posix_spawnattr_init(&attributes_);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attributes_);
  }
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attributes_;
};

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}
}  // namespace

bool fd_readable(int fd) {
  if (fd < 0) return false;
  pollfd probe{fd, POLLIN, 0};
  return ::poll(&probe, 1, 0) > 0 && (probe.revents & POLLIN) != 0;
}

ProcessResult run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const std::atomic<bool>* cancel, int cancel_fd,
                          bool own_process_group) {
  ProcessResult result;
  if (argv.empty()) {
    result.spawn_error = EINVAL;
    return result;
  }
  if ((cancel != nullptr && cancel->load()) || fd_readable(cancel_fd)) {
    result.cancelled = true;
    return result;
  }
  Pipe out, err;
  if (!out.open() || !err.open()) {
    result.spawn_error = errno;
    return result;
  }
  SpawnSetup setup;
  posix_spawn_file_actions_addopen(&setup.actions_, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions_, out.write_end, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions_, err.write_end, STDERR_FILENO);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int signal : {SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGQUIT, SIGCHLD})
    sigaddset(&defaults, signal);
  posix_spawnattr_setsigmask(&setup.attributes_, &none);
  posix_spawnattr_setsigdefault(&setup.attributes_, &defaults);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (own_process_group) {
    posix_spawnattr_setpgroup(&setup.attributes_, 0);
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  posix_spawnattr_setflags(&setup.attributes_, flags);

  std::vector<char*> raw;
  for (const auto& arg : argv) raw.push_back(const_cast<char*>(arg.c_str()));
  raw.push_back(nullptr);
  pid_t pid = -1;
  int spawned =
      posix_spawnp(&pid, raw[0], &setup.actions_, &setup.attributes_, raw.data(), environ);
  if (spawned != 0) {
    result.spawn_error = spawned;
    return result;
  }
  result.started = true;
  ::close(out.write_end);
  out.write_end = -1;
  ::close(err.write_end);
  err.write_end = -1;

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[3] = {{out.read_end, POLLIN, 0}, {err.read_end, POLLIN, 0}, {cancel_fd, POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_streams = 2;
  int status = 0;
  bool exited = false;
  auto exited_at = deadline;
  for (;;) {
    auto now = std::chrono::steady_clock::now();
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
    if (!exited && ::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      exited_at = std::chrono::steady_clock::now();
    }
  }
  if (!exited) {
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  result.exit_status = decode_status(status);
  return result;
}

}  // namespace rtether::adb
