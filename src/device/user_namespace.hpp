// Network namespaces without root, as rootless container helpers
// (slirp4netns, pasta) reach them: a namespace an unprivileged user made
// belongs to a user namespace of theirs, and only inside that user
// namespace do they hold CAP_NET_ADMIN over it (to make a tun there).
//
// Joining a user namespace is for the whole process and has no way back
// (setns(CLONE_NEWUSER) needs a single-threaded caller, and the host's
// network namespace is not ours to re-enter from inside), so the tun is
// made by a forked child that joins the owning user namespace, then the
// network namespace, builds the tun and hands its fd back to the parent
// through SCM_RIGHTS; the parent's sockets stay on the host.
//
// UserNamespaceSandbox is `rtether shell`'s namespace as a non-root user
// (the way `unshare -rn` and `pasta --config-net` make one): a holder
// process in a new user (its uid and gid mapped to 0), network and mount
// namespace, with lo up, a private /etc/resolv.conf bind-mounted in its
// mount namespace and a sysfs of the new network namespace on /sys.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

#include "device/netns.hpp"
#include "io/socket.hpp"

namespace rtether::device {

// Runs `open` in a forked child that has joined the user namespace owning
// `target`'s network namespace (NS_GET_USERNS; not joined when it is the
// caller's own) and returns the fd `open` returned, received through
// SCM_RIGHTS. `open` enters the network namespace itself (NetnsGuard,
// LinuxTunBuilder); what it throws is the exception thrown here, as text.
// The parent must call this before it starts threads of its own (the child
// of a threaded fork may only rely on what glibc makes fork-safe).
io::Fd open_in_owning_user_namespace(const NetnsTarget& target,
                                     const std::function<io::Fd()>& open);

// A pidfd for `pid` (pidfd_open): readable once the process has exited.
// Throws std::runtime_error if there is no such process.
io::Fd open_process_watch(pid_t pid);

class UserNamespaceSandbox {
 public:
  // Forks the holder and returns once its namespaces are set up.
  // `resolv_conf` is the text of its /etc/resolv.conf. Throws
  // std::runtime_error with the reason, naming the sysctl when user
  // namespaces are disabled (user.max_user_namespaces = 0, Debian's
  // kernel.unprivileged_userns_clone = 0). Single-threaded callers only.
  explicit UserNamespaceSandbox(const std::string& resolv_conf);
  ~UserNamespaceSandbox();  // kills and reaps the holder
  UserNamespaceSandbox(const UserNamespaceSandbox&) = delete;
  UserNamespaceSandbox& operator=(const UserNamespaceSandbox&) = delete;

  pid_t pid() const { return holder_; }

  // For a child about to exec a program inside (io::SpawnOptions'
  // before_exec): joins the holder's user, network and mount namespaces,
  // keeping the working directory. Returns false with the reason in `error`.
  bool enter_for_exec(std::string& error) const;

 private:
  pid_t holder_ = -1;
  io::Fd hold_;  // the holder ends when this closes (or we die)
  io::Fd user_, net_, mnt_;
};

// Why an unprivileged user namespace cannot be made, from the sysctls
// that forbid it ("" if none does): for error messages.
std::string user_namespaces_disabled_reason();

}  // namespace rtether::device
