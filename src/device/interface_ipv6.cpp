// disable_ipv6; see interface_ipv6.hpp.
#include "device/interface_ipv6.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "io/socket.hpp"

namespace rtether::device {

std::error_code disable_ipv6(const std::string& interface_name) {
  const std::string path = "/proc/sys/net/ipv6/conf/" + interface_name + "/disable_ipv6";
  io::Fd file(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!file.valid()) return {errno, std::generic_category()};
  if (::write(file.get(), "1\n", 2) != 2) return {errno, std::generic_category()};
  return {};
}

}  // namespace rtether::device
