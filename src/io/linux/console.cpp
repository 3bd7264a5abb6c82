// The terminal on Linux; see console.hpp.
#include "io/console.hpp"

#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace rtether::io {

bool stdout_is_terminal() {
  const char* term = std::getenv("TERM");
  if (::isatty(STDOUT_FILENO) != 1 || (term != nullptr && std::strcmp(term, "dumb") == 0))
    return false;
  return ::tcgetpgrp(STDOUT_FILENO) == ::getpgrp();
}

bool stderr_is_stdout_terminal() {
  struct stat out {}, err {};
  return ::isatty(STDERR_FILENO) == 1 && ::fstat(STDOUT_FILENO, &out) == 0 &&
         ::fstat(STDERR_FILENO, &err) == 0 && out.st_rdev == err.st_rdev &&
         out.st_dev == err.st_dev;
}

TerminalSize stdout_terminal_size() {
  winsize size{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) != 0) return {};
  return {size.ws_col, size.ws_row};
}

}  // namespace rtether::io
