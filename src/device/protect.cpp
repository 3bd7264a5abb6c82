// protect_socket; see protect.hpp for why SO_BINDTODEVICE.
#include "device/protect.hpp"

#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "device/netns.hpp"
#include "device/underlying_route.hpp"
#include "io/socket.hpp"

namespace rtether::device {
namespace {

// The inode of a network namespace handle identifies the namespace.
ino_t namespace_inode(int fd) {
  struct stat info {};
  return fstat(fd, &info) == 0 ? info.st_ino : 0;
}

ino_t namespace_inode(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 ? info.st_ino : 0;
}

}  // namespace

ProtectResult protect_socket(int fd, const std::string& tun_netns, const std::string& tun_prefix) {
  io::Fd socket_namespace(ioctl(fd, SIOCGSKNS));
  if (!socket_namespace.valid()) {
    return {false, std::string("not a socket in a known namespace: ") + std::strerror(errno)};
  }
  ino_t tun_namespace = tun_netns.empty()
                            ? namespace_inode("/proc/thread-self/ns/net")
                            : namespace_inode(std::string(kNetnsRunDir) + "/" + tun_netns);
  if (namespace_inode(socket_namespace.get()) != tun_namespace) {
    return {true, "the socket is outside the tun's namespace: its routes cannot catch it"};
  }
  std::string device;
  {
    std::optional<NetnsGuard> inside;
    if (!tun_netns.empty()) inside.emplace(tun_netns);
    auto route = underlying_default_route(wire::IpVersion::V4, tun_prefix);
    if (route) device = route->interface;
  }
  if (device.empty()) {
    return {false, "no default route outside the tun to bind the socket to"};
  }
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device.c_str(),
                 static_cast<socklen_t>(device.size())) < 0) {
    return {false, "SO_BINDTODEVICE " + device + ": " + std::strerror(errno)};
  }
  return {true, "bound to " + device};
}

}  // namespace rtether::device
