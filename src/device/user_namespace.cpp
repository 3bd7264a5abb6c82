// Network namespaces without root; see user_namespace.hpp.
#include "device/user_namespace.hpp"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "device/link_configurator.hpp"

namespace rtether::device {
namespace {

std::string errno_text(int error = errno) { return std::strerror(error); }

// How long a forked helper may take to report (tun set up, namespaces made).
constexpr int kChildTimeoutMs = 15000;

std::string read_sysctl(const char* path) {
  std::ifstream file(path);
  std::string value;
  if (!(file >> value)) return "";
  return value;
}

bool same_file(int a, int b) {
  struct stat first {};
  struct stat second {};
  return fstat(a, &first) == 0 && fstat(b, &second) == 0 && first.st_dev == second.st_dev &&
         first.st_ino == second.st_ino;
}

bool write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

bool write_file(const std::string& path, const std::string& text) {
  io::Fd file(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  return file.valid() && write_all(file.get(), text);
}

// Reads what a forked helper reports until it closes its end (or the time
// runs out); descriptors that came with it go to `fds`.
std::string read_report(int fd, std::vector<io::Fd>* fds) {
  std::string text;
  for (;;) {
    pollfd ready{fd, POLLIN, 0};
    int n = poll(&ready, 1, kChildTimeoutMs);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return text + " (no answer within 15 s)";
    std::uint8_t buffer[512];
    if (fds != nullptr) {
      auto got = io::receive_with_fds(fd, buffer, *fds);
      if (!got && got.would_block()) continue;
      if (!got || *got == 0) return text;
      text.append(reinterpret_cast<const char*>(buffer), *got);
    } else {
      ssize_t got = read(fd, buffer, sizeof buffer);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return text;
      text.append(reinterpret_cast<const char*>(buffer), static_cast<std::size_t>(got));
    }
  }
}

void reap(pid_t pid) {
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

std::string user_namespaces_disabled_reason() {
  if (read_sysctl("/proc/sys/kernel/unprivileged_userns_clone") == "0") {
    return "kernel.unprivileged_userns_clone is 0 (user namespaces are for root only)";
  }
  if (read_sysctl("/proc/sys/user/max_user_namespaces") == "0") {
    return "user.max_user_namespaces is 0 (user namespaces are disabled)";
  }
  return "";
}

io::Fd open_in_owning_user_namespace(const NetnsTarget& target,
                                     const std::function<io::Fd()>& open_fd) {
  io::Fd net(open(target.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!net.valid()) {
    throw std::runtime_error("network " + target.description() + ": " + errno_text());
  }
  io::Fd owner(ioctl(net.get(), NS_GET_USERNS));
  if (!owner.valid()) {
    throw std::runtime_error("cannot find the user namespace owning network " +
                             target.description() + ": " + errno_text());
  }
  io::Fd ours(open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC));
  const bool join = !ours.valid() || !same_file(owner.get(), ours.get());
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
    throw std::runtime_error("socketpair: " + errno_text());
  }
  io::Fd parent_end(pair[0]);
  io::Fd child_end(pair[1]);
  pid_t child = fork();
  if (child < 0) throw std::runtime_error("fork: " + errno_text());
  if (child == 0) {
    parent_end.reset();
    std::string report;
    io::Fd fd;
    try {
      if (join && setns(owner.get(), CLONE_NEWUSER) < 0) {
        throw std::runtime_error("cannot join the user namespace owning network " +
                                 target.description() + " (only its owner may): " +
                                 errno_text());
      }
      // For good: from inside that user namespace the host's network
      // namespace is not ours to return to, so `open`'s NetnsGuard must
      // find this child already there (it enters and returns to the same).
      if (setns(net.get(), CLONE_NEWNET) < 0) {
        throw std::runtime_error("cannot enter network " + target.description() + ": " +
                                 errno_text());
      }
      fd = open_fd();
    } catch (const std::exception& error) {
      report = error.what();
    }
    const std::string ok = "ok";
    if (fd.valid()) {
      auto sent = io::send_with_fd(
          child_end.get(),
          wire::Bytes(reinterpret_cast<const std::uint8_t*>(ok.data()), ok.size()), fd.get());
      if (!sent) report = "cannot pass the tun back: " + sent.error().message();
    }
    if (!report.empty()) write_all(child_end.get(), report);
    _exit(report.empty() ? 0 : 1);
  }
  child_end.reset();
  std::vector<io::Fd> fds;
  std::string report = read_report(parent_end.get(), &fds);
  reap(child);
  if (report == "ok" && fds.size() == 1) return std::move(fds.front());
  if (report.empty() || report == "ok") report = "the helper process ended without a tun";
  throw std::runtime_error(report);
}

io::Fd open_process_watch(pid_t pid) {
  io::Fd fd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!fd.valid()) {
    throw std::runtime_error("cannot watch process " + std::to_string(pid) + ": " +
                             errno_text());
  }
  fcntl(fd.get(), F_SETFD, FD_CLOEXEC);
  return fd;
}

namespace {

// The holder's set-up, in the forked child; throws with the reason.
void set_up_holder(uid_t uid, gid_t gid, const std::string& resolv_source) {
  if (unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS) < 0) {
    const int error = errno;
    std::string reason = user_namespaces_disabled_reason();
    throw std::runtime_error("cannot create a user namespace: " + errno_text(error) +
                             (reason.empty() ? "" : ": " + reason) +
                             "; run as root for a named namespace instead");
  }
  // As `unshare -r`: our own uid and gid become 0 inside; setgroups must be
  // denied before an unprivileged process may write its gid_map.
  if (!write_file("/proc/self/setgroups", "deny") ||
      !write_file("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") ||
      !write_file("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1")) {
    throw std::runtime_error("cannot map our user into the user namespace: " + errno_text());
  }
  // Our mounts stay in this mount namespace.
  if (mount("", "/", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) {
    throw std::runtime_error("cannot make / a slave mount: " + errno_text());
  }
  if (mount(resolv_source.c_str(), "/etc/resolv.conf", nullptr, MS_BIND, nullptr) < 0) {
    throw std::runtime_error("cannot bind a private resolv.conf on /etc/resolv.conf: " +
                             errno_text());
  }
  // The host's /sys cannot be unmounted here (it came locked with the
  // mount namespace); a sysfs of this network namespace on top of it shows
  // its devices (/sys/class/net), as `ip netns exec` does.
  if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0) {
    throw std::runtime_error("cannot mount a sysfs on /sys: " + errno_text());
  }
  LinkConfigurator links;
  links.set_up(static_cast<int>(if_nametoindex("lo")));
}

}  // namespace

UserNamespaceSandbox::UserNamespaceSandbox(const std::string& resolv_conf) {
  // The resolv.conf file to bind: written here, bound by the holder, then
  // unlinked (the bind mount keeps it).
  const char* tmp = std::getenv("TMPDIR");
  std::string source = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                       "/rtether-resolv-XXXXXX";
  std::vector<char> name(source.begin(), source.end());
  name.push_back('\0');
  io::Fd file(mkostemp(name.data(), O_CLOEXEC));
  if (!file.valid()) {
    throw std::runtime_error("cannot create " + source + ": " + errno_text());
  }
  source = name.data();
  fchmod(file.get(), 0644);
  const bool written = write_all(file.get(), resolv_conf);
  file.reset();
  if (!written) {
    unlink(source.c_str());
    throw std::runtime_error("cannot write " + source + ": " + errno_text());
  }
  int status[2];
  int hold[2];
  if (pipe2(status, O_CLOEXEC) < 0) {
    unlink(source.c_str());
    throw std::runtime_error("pipe: " + errno_text());
  }
  io::Fd status_read(status[0]);
  io::Fd status_write(status[1]);
  if (pipe2(hold, O_CLOEXEC) < 0) {
    unlink(source.c_str());
    throw std::runtime_error("pipe: " + errno_text());
  }
  io::Fd hold_read(hold[0]);
  hold_ = io::Fd(hold[1]);
  const uid_t uid = geteuid();
  const gid_t gid = getegid();
  const pid_t parent = getpid();
  holder_ = fork();
  if (holder_ < 0) {
    unlink(source.c_str());
    throw std::runtime_error("fork: " + errno_text());
  }
  if (holder_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    status_read.reset();
    hold_.reset();
    std::string report = "ok";
    try {
      set_up_holder(uid, gid, source);
    } catch (const std::exception& error) {
      report = error.what();
    }
    write_all(status_write.get(), report);
    status_write.reset();
    if (report != "ok") _exit(1);
    // Hold the namespaces until the shell closes its end (or dies).
    char byte;
    while (read(hold_read.get(), &byte, 1) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  status_write.reset();
  hold_read.reset();
  std::string report = read_report(status_read.get(), nullptr);
  unlink(source.c_str());
  if (report != "ok") {
    kill(holder_, SIGKILL);
    reap(holder_);
    holder_ = -1;
    throw std::runtime_error(report.empty() ? "the namespace holder ended at once" : report);
  }
  const std::string base = "/proc/" + std::to_string(holder_) + "/ns/";
  user_ = io::Fd(open((base + "user").c_str(), O_RDONLY | O_CLOEXEC));
  net_ = io::Fd(open((base + "net").c_str(), O_RDONLY | O_CLOEXEC));
  mnt_ = io::Fd(open((base + "mnt").c_str(), O_RDONLY | O_CLOEXEC));
  if (!user_.valid() || !net_.valid() || !mnt_.valid()) {
    const int error = errno;
    kill(holder_, SIGKILL);
    reap(holder_);
    holder_ = -1;
    throw std::runtime_error("cannot open the holder's namespaces: " + errno_text(error));
  }
}

UserNamespaceSandbox::~UserNamespaceSandbox() {
  if (holder_ <= 0) return;
  hold_.reset();
  kill(holder_, SIGKILL);
  reap(holder_);
}

bool UserNamespaceSandbox::enter_for_exec(std::string& error) const {
  io::Fd cwd(open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (setns(user_.get(), CLONE_NEWUSER) < 0) {
    error = "cannot join the shell's user namespace: " + errno_text();
    return false;
  }
  if (setns(net_.get(), CLONE_NEWNET) < 0 || setns(mnt_.get(), CLONE_NEWNS) < 0) {
    error = "cannot join the shell's namespaces: " + errno_text();
    return false;
  }
  // Entering a mount namespace moves to its root; go back where we were.
  if (cwd.valid() && fchdir(cwd.get()) < 0) {
    error = "cannot return to the working directory: " + errno_text();
    return false;
  }
  return true;
}

}  // namespace rtether::device
