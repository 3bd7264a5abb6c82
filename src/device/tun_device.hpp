// TunDevice: one Linux tun interface (IFF_TUN | IFF_NO_PI: each read or
// write is exactly one raw IP packet, the framing Gnirehtet's stream uses;
// with IFF_VNET_HDR a virtio-net header before each).
//
// The interface is not persistent: it lives in the network namespace of the
// thread that opened it and disappears when this object closes the fd, so a
// crashed client never leaves an interface behind.
#pragma once

#include <string>
#include <vector>

#include "io/socket.hpp"

namespace rtether::device {

// The interface name of a tun fd (TUNGETIFF), e.g. one received from a UI;
// empty if the fd is not a tun.
std::string tun_name_of(int fd);

class TunDevice {
 public:
  static constexpr const char* kDefaultName = "rtether0";

  // Creates the interface in the calling thread's network namespace.
  // Throws std::runtime_error with the reason (no /dev/net/tun, EPERM, name
  // taken or too long): this only happens at start-up.
  // `vnet_header`: IFF_VNET_HDR, each packet read or written behind a
  // virtio-net header, so a packet written may leave its TCP or UDP
  // checksum for the kernel to complete (the relay's PacketLink in direct
  // mode: packet_link.hpp). No offload is turned on: packets read have
  // whole checksums and stay within the MTU.
  // `queues` > 1: a multi-queue tun (IFF_MULTI_QUEUE) with that many
  // queues, each a descriptor of its own (tun_steering.hpp says which
  // packets each gets); fd() is the first.
  static TunDevice open(const std::string& name, bool vnet_header = false, int queues = 1);

  int fd() const { return fd_.get(); }
  const std::string& name() const { return name_; }
  int index() const { return index_; }  // ifindex inside its namespace
  // Hands the packet fd over (to another process through SCM_RIGHTS): the
  // interface then lives as long as that copy.
  io::Fd release_fd() { return std::move(fd_); }
  // A multi-queue tun's other queues (the second on), to hand over too.
  std::vector<io::Fd> release_other_queues() { return std::move(other_queues_); }

 private:
  TunDevice(io::Fd fd, std::string name, int index)
      : fd_(std::move(fd)), name_(std::move(name)), index_(index) {}
  io::Fd fd_;
  std::vector<io::Fd> other_queues_;
  std::string name_;
  int index_;
};

}  // namespace rtether::device
