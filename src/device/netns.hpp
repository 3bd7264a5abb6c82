// Named network namespaces, compatible with iproute2 (`ip netns`): a
// namespace NAME is kept alive by a bind mount of its nsfs handle on
// /run/netns/NAME, and /etc/netns/NAME/ holds files that replace /etc/ ones
// for programs run inside it (resolv.conf).
//
// Entering is per thread (setns(CLONE_NEWNET) changes only the calling
// thread), so a process can create its tun inside a namespace while its
// relay connection stays in the namespace the process was started in.
#pragma once

#include <string>

#include "io/socket.hpp"

namespace rtether::device {

inline constexpr const char* kNetnsRunDir = "/run/netns";
inline constexpr const char* kNetnsEtcDir = "/etc/netns";

// A network namespace as a command line names it (`rtether relay --netns`):
// NAME is /run/netns/NAME (`ip netns`); anything with a '/' is the path of a
// namespace file (a bind-mounted netns, /proc/PID/ns/net); digits only are a
// PID, whose namespace is /proc/PID/ns/net (a namespace named by digits is
// given as /run/netns/DIGITS).
struct NetnsTarget {
  std::string path;  // the nsfs file to open
  std::string name;  // the `ip netns` name; empty for a path or a PID

  // Throws std::runtime_error for a bad name ("", ".", "..").
  static NetnsTarget parse(const std::string& text);
  static NetnsTarget named(const std::string& name);
  // "namespace NAME" or "namespace PATH", for messages.
  std::string description() const;
};

// True when the target is the calling thread's own network namespace (the
// same nsfs inode). Throws std::runtime_error if it cannot be opened.
bool is_current_netns(const NetnsTarget& target);

// Moves the calling thread into a namespace and back to the namespace it
// was in when the guard is destroyed. Throws std::runtime_error on failure
// (unknown name, EPERM).
class NetnsGuard {
 public:
  // /run/netns/NAME.
  explicit NetnsGuard(const std::string& name);
  explicit NetnsGuard(const NetnsTarget& target);
  ~NetnsGuard();
  NetnsGuard(const NetnsGuard&) = delete;
  NetnsGuard& operator=(const NetnsGuard&) = delete;

 private:
  io::Fd original_;
};

bool netns_exists(const std::string& name);

// Creates an empty named namespace as `ip netns add NAME` does. Throws
// std::runtime_error if it exists already or cannot be created.
void create_netns(const std::string& name);

// Removes the name as `ip netns delete NAME` does; the namespace itself goes
// when its last user (process, open handle) goes. Returns false with the
// reason in `error` if the name could not be removed.
bool delete_netns(const std::string& name, std::string& error);

// For a child about to exec a program inside the namespace, as
// `ip netns exec` does: enters the namespace for the whole (single-threaded)
// process, then in a private mount namespace bind-mounts every file of
// /etc/netns/NAME/ over its /etc/ counterpart so resolv.conf applies.
// Returns false with the reason in `error`.
bool enter_netns_for_exec(const std::string& name, std::string& error);

}  // namespace rtether::device
