// executable_directory on Linux; see executable_location.hpp.
#include "io/executable_location.hpp"

#include <unistd.h>

#include <climits>

namespace rtether::io {

std::optional<std::string> executable_directory() {
  char path[PATH_MAX];
  ssize_t length = ::readlink("/proc/self/exe", path, sizeof path);
  if (length <= 0 || static_cast<std::size_t>(length) >= sizeof path) return std::nullopt;
  std::string binary(path, static_cast<std::size_t>(length));
  std::size_t slash = binary.rfind('/');
  if (slash == std::string::npos) return std::nullopt;
  return binary.substr(0, slash + 1);
}

}  // namespace rtether::io
