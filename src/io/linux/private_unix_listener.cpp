// PrivateUnixListener; see private_unix_listener.hpp.
#include "io/private_unix_listener.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "io/unix_socket_table.hpp"

namespace rtether::io {

namespace {
constexpr mode_t kOwnerOnly = 0600;
// Masks every permission bit but the owner's read and write.
constexpr mode_t kOwnerOnlyMask = 0177;

bool is_abstract(const std::string& path) { return !path.empty() && path.front() == '@'; }

bool is_socket_file(const std::string& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0 && S_ISSOCK(info.st_mode);
}
}  // namespace

void make_private_folder(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0) return;
  const int error = errno;
  struct stat info {};
  if (error != EEXIST || ::lstat(path.c_str(), &info) != 0)
    throw std::system_error(error, std::generic_category(), "cannot create folder " + path);
  if (!S_ISDIR(info.st_mode) || info.st_uid != ::geteuid() || (info.st_mode & 022) != 0)
    throw std::runtime_error(path + " is not a folder of this user closed to others");
}

PrivateUnixListener::PrivateUnixListener(std::string path, int backlog) : path_(std::move(path)) {
  if (!is_abstract(path_) && is_socket_file(path_)) {
    if (unix_socket_listening(path_)) {
      throw std::runtime_error(path_ + " is in use by another process");
    }
    ::unlink(path_.c_str());
  }
  mode_t old_mask = ::umask(kOwnerOnlyMask);
  try {
    socket_ = listen_unix(path_, backlog);
  } catch (const std::system_error& e) {
    ::umask(old_mask);
    throw std::runtime_error(e.what());
  }
  ::umask(old_mask);
  if (!is_abstract(path_)) ::chmod(path_.c_str(), kOwnerOnly);
}

PrivateUnixListener::PrivateUnixListener(PrivateUnixListener&& other) noexcept
    : path_(std::move(other.path_)), socket_(std::move(other.socket_)) {}

PrivateUnixListener& PrivateUnixListener::operator=(PrivateUnixListener&& other) noexcept {
  if (this != &other) {
    close();
    path_ = std::move(other.path_);
    socket_ = std::move(other.socket_);
  }
  return *this;
}

void PrivateUnixListener::close() {
  if (!socket_.valid()) return;
  socket_.reset();
  if (!is_abstract(path_)) ::unlink(path_.c_str());
}

}  // namespace rtether::io
