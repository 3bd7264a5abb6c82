// PrivateUnixListener: a listening UNIX socket at a path that only this
// user can connect to, for the management interface (the daemon's
// `--management PATH unix`, `rtether vpnservice --listen`) and the relay's
// control socket (control/control_server.hpp).
//
// The socket file is created 0600 (under a 0177 umask, then chmod for a
// umask changed meanwhile). A socket file already at the path is either a
// live process's listener, which is refused (std::runtime_error), or one
// left by a process that died, which is removed so bind() can take the
// path; anything else at the path (a regular file) is never removed, and
// bind() fails on it. Whether a process listens is read from
// /proc/net/unix, so the check makes no connection that the other process
// would see. The file is removed again when the listener closes.
//
// A path starting with '@' is an abstract socket: no file, so no mode to
// set, no stale file to remove and nothing to remove at the end.
#pragma once

#include <string>

#include "io/socket.hpp"

namespace rtether::io {

// Creates the folder `path` (its parent must exist) with mode 0700 when it is
// missing; throws std::runtime_error when it cannot, or when what is there
// is not a folder of this user that others cannot write to.
void make_private_folder(const std::string& path);

class PrivateUnixListener {
 public:
  PrivateUnixListener() = default;
  // Listens (non-blocking, close-on-exec). Throws std::runtime_error with
  // "PATH is in use by another process" or the bind/listen error.
  PrivateUnixListener(std::string path, int backlog);
  ~PrivateUnixListener() { close(); }
  PrivateUnixListener(PrivateUnixListener&& other) noexcept;
  PrivateUnixListener& operator=(PrivateUnixListener&& other) noexcept;
  PrivateUnixListener(const PrivateUnixListener&) = delete;
  PrivateUnixListener& operator=(const PrivateUnixListener&) = delete;

  bool valid() const { return socket_.valid(); }
  int fd() const { return socket_.get(); }
  const std::string& path() const { return path_; }

  // Stops listening and removes the socket file; idempotent.
  void close();

 private:
  std::string path_;
  Fd socket_;
};

}  // namespace rtether::io
