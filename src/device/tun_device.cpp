// Opening a tun interface through /dev/net/tun (Documentation/networking/
// tuntap.rst); see tun_device.hpp.
#include "device/tun_device.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace rtether::device {

TunDevice TunDevice::open(const std::string& name, bool vnet_header, int queues) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    throw std::runtime_error("tun name '" + name + "' must be 1-" +
                             std::to_string(IFNAMSIZ - 1) + " characters");
  }
  io::Fd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
  if (!fd.valid()) {
    throw std::runtime_error(std::string("cannot open /dev/net/tun: ") + std::strerror(errno));
  }
  ifreq request{};
  request.ifr_flags = static_cast<short>(IFF_TUN | IFF_NO_PI | (vnet_header ? IFF_VNET_HDR : 0) |
                                        (queues > 1 ? IFF_MULTI_QUEUE : 0));
  std::memcpy(request.ifr_name, name.c_str(), name.size());
  if (ioctl(fd.get(), TUNSETIFF, &request) < 0) {
    throw std::runtime_error("cannot create tun '" + name + "': " + std::strerror(errno));
  }
  // No TUNSETOFFLOAD: the header only lets the relay's writes leave a
  // checksum to complete. Without TUN_F_CSUM the kernel completes every
  // checksum, inner ones too (a UDP tunnel's: VXLAN, Geneve, FOU, whose
  // payload the relay carries on to the host as it is), before it hands a
  // packet over, and without TUN_F_TSO* it hands over none larger than the
  // MTU.
  // The kernel may rewrite the name (a "%d" template); index it by the
  // name it actually chose, in the namespace it was created in.
  std::string actual_name(request.ifr_name, strnlen(request.ifr_name, IFNAMSIZ));
  int index = static_cast<int>(if_nametoindex(actual_name.c_str()));
  if (index == 0) {
    throw std::runtime_error("tun '" + actual_name + "' has no index: " + std::strerror(errno));
  }
  TunDevice tun(std::move(fd), std::move(actual_name), index);
  // Each further queue: the same request, for the name the kernel chose,
  // on a descriptor of its own.
  std::memcpy(request.ifr_name, tun.name_.c_str(), tun.name_.size() + 1);
  for (int queue = 1; queue < queues; ++queue) {
    io::Fd more(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
    if (!more.valid() || ioctl(more.get(), TUNSETIFF, &request) < 0) {
      throw std::runtime_error("cannot open queue " + std::to_string(queue + 1) + " of tun '" +
                               tun.name_ + "': " + std::strerror(errno));
    }
    tun.other_queues_.push_back(std::move(more));
  }
  return tun;
}

std::string tun_name_of(int fd) {
  ifreq request{};
  if (ioctl(fd, TUNGETIFF, &request) < 0) return {};
  return std::string(request.ifr_name, strnlen(request.ifr_name, IFNAMSIZ));
}

}  // namespace rtether::device
