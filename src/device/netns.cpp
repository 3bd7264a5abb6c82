// Named network namespace handling, mirroring iproute2's ip/ipnetns.c; see
// netns.hpp.
#include "device/netns.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace rtether::device {
namespace {

std::string run_path(const std::string& name) { return std::string(kNetnsRunDir) + "/" + name; }

std::string errno_text() { return std::strerror(errno); }

void check_name(const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    throw std::runtime_error("bad network namespace name '" + name + "'");
  }
}

// Bind mounts under /run/netns must propagate to other mount namespaces
// (e.g. one made by `ip netns exec`), so /run/netns is made a shared mount,
// first bind-mounted on itself if it is not a mount point yet (as iproute2).
void prepare_run_dir() {
  if (mkdir(kNetnsRunDir, 0755) < 0 && errno != EEXIST) {
    throw std::runtime_error(std::string("cannot create ") + kNetnsRunDir + ": " + errno_text());
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (mount("", kNetnsRunDir, "none", MS_SHARED | MS_REC, nullptr) == 0) return;
    if (errno != EINVAL || attempt > 0) break;
    if (mount(kNetnsRunDir, kNetnsRunDir, "none", MS_BIND | MS_REC, nullptr) < 0) break;
  }
  throw std::runtime_error(std::string("cannot make ") + kNetnsRunDir + " a shared mount: " +
                           errno_text());
}

}  // namespace

NetnsTarget NetnsTarget::named(const std::string& name) {
  check_name(name);
  return {run_path(name), name};
}

NetnsTarget NetnsTarget::parse(const std::string& text) {
  if (text.find('/') != std::string::npos) return {text, ""};
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
    return {"/proc/" + text + "/ns/net", ""};
  }
  return named(text);
}

std::string NetnsTarget::description() const {
  return "namespace " + (name.empty() ? path : name);
}

namespace {
// The nsfs file of a target, opened to enter or compare it.
io::Fd open_target(const NetnsTarget& target) {
  io::Fd file(open(target.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file.valid()) {
    throw std::runtime_error("network " + target.description() + ": " + errno_text());
  }
  return file;
}
}  // namespace

bool is_current_netns(const NetnsTarget& target) {
  io::Fd file = open_target(target);
  struct stat theirs {};
  struct stat ours {};
  if (fstat(file.get(), &theirs) < 0 || stat("/proc/thread-self/ns/net", &ours) < 0) {
    throw std::runtime_error("cannot compare network namespaces: " + errno_text());
  }
  return theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino;
}

NetnsGuard::NetnsGuard(const std::string& name) : NetnsGuard(NetnsTarget::named(name)) {}

NetnsGuard::NetnsGuard(const NetnsTarget& target) {
  original_ = io::Fd(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!original_.valid()) {
    throw std::runtime_error("cannot open the current network namespace: " + errno_text());
  }
  io::Fd file = open_target(target);
  if (setns(file.get(), CLONE_NEWNET) < 0) {
    throw std::runtime_error("cannot enter network " + target.description() + ": " +
                             errno_text());
  }
}

NetnsGuard::~NetnsGuard() {
  // Returning to a namespace we came from cannot fail short of a kernel bug;
  // if it did, this thread would keep working in the wrong namespace, so stop.
  if (setns(original_.get(), CLONE_NEWNET) < 0) std::abort();
}

bool netns_exists(const std::string& name) {
  struct stat info {};
  return stat(run_path(name).c_str(), &info) == 0;
}

void create_netns(const std::string& name) {
  check_name(name);
  prepare_run_dir();
  std::string path = run_path(name);
  int file = open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (file < 0) {
    throw std::runtime_error("cannot create network namespace '" + name + "': " + errno_text());
  }
  close(file);
  // unshare() in a short-lived thread: the new namespace is pinned by the
  // bind mount, and no thread of ours ever has to switch back.
  std::string failure;
  std::thread maker([&] {
    if (unshare(CLONE_NEWNET) < 0) {
      failure = "unshare: " + errno_text();
    } else if (mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) < 0) {
      failure = "bind mount on " + path + ": " + errno_text();
    }
  });
  maker.join();
  if (!failure.empty()) {
    unlink(path.c_str());
    throw std::runtime_error("cannot create network namespace '" + name + "': " + failure);
  }
}

bool delete_netns(const std::string& name, std::string& error) {
  std::string path = run_path(name);
  if (umount2(path.c_str(), MNT_DETACH) < 0 && errno != EINVAL) {
    error = "cannot unmount " + path + ": " + errno_text();
    return false;
  }
  if (unlink(path.c_str()) < 0) {
    error = "cannot remove " + path + ": " + errno_text();
    return false;
  }
  return true;
}

bool enter_netns_for_exec(const std::string& name, std::string& error) {
  io::Fd target(open(run_path(name).c_str(), O_RDONLY | O_CLOEXEC));
  if (!target.valid() || setns(target.get(), CLONE_NEWNET) < 0) {
    error = "cannot enter network namespace '" + name + "': " + errno_text();
    return false;
  }
  if (unshare(CLONE_NEWNS) < 0) {
    error = "cannot make a mount namespace: " + errno_text();
    return false;
  }
  // Keep our bind mounts from propagating back to the host's mounts.
  if (mount("", "/", "none", MS_SLAVE | MS_REC, nullptr) < 0) {
    error = "cannot make / a slave mount: " + errno_text();
    return false;
  }
  // As `ip netns exec` does: a fresh sysfs shows this namespace's devices
  // (/sys/class/net), not the host's.
  if (umount2("/sys", MNT_DETACH) < 0 && errno != EINVAL) {
    error = "cannot detach /sys: " + errno_text();
    return false;
  }
  if (mount("sysfs", "/sys", "sysfs", 0, nullptr) < 0) {
    error = "cannot mount sysfs for namespace '" + name + "': " + errno_text();
    return false;
  }
  std::string etc_dir = std::string(kNetnsEtcDir) + "/" + name;
  DIR* directory = opendir(etc_dir.c_str());
  if (directory == nullptr) return true;  // nothing to overlay
  bool ok = true;
  while (dirent* entry = readdir(directory)) {
    std::string file = entry->d_name;
    if (file == "." || file == "..") continue;
    std::string source = etc_dir + "/" + file;
    std::string target_path = "/etc/" + file;
    if (mount(source.c_str(), target_path.c_str(), "none", MS_BIND, nullptr) < 0) {
      error = "cannot bind " + source + " on " + target_path + ": " + errno_text();
      ok = false;
      break;
    }
  }
  closedir(directory);
  return ok;
}

}  // namespace rtether::device
