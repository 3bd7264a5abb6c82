// PacketLink: the relay's DeviceLink for a packet descriptor, where one
// read() is one IP packet and one write() is one packet: in direct mode the
// tun the relay opened itself inside the device's network namespace
// (`rtether relay --netns`, `rtether shell`), so packets go from the
// namespace's kernel to the relay engine with no client process, no stream
// and no framing (relay/device_link.hpp has the other kind, the stream).
//
// Reads drain up to the session's budget of packets per readable edge; a
// send writes every whole packet queued, one write() each (a tun write
// never blocks: the kernel takes the packet or drops it). A packet the
// kernel refuses is a counted drop (`drop_device_write`), not the end of
// the device; the end is the descriptor itself failing (EBADFD: the tun
// detached, EBADF).
//
// A tun opened with IFF_VNET_HDR (TunDevice::open's `vnet_header`, found
// with TUNGETIFF) has a virtio-net header before every packet, each way
// (Documentation/networking/tuntap.rst; struct virtio_net_hdr, virtio 1.x
// 5.1.6). Then the link completes checksums (DeviceLink::
// completes_checksums): the relay leaves each TCP and UDP checksum at the
// pseudo header's sum, and the header says NEEDS_CSUM with where the
// transport header and its checksum field start. The device's kernel takes
// such a packet as checked (a local socket's receive skips the pass over
// the data) and computes the checksum only if it forwards the packet on.
// (So a capture inside the namespace, tcpdump on the tun, shows the
// relay's TCP and UDP checksums as incorrect: they are not filled in yet.)
// Reads drop the header: the tun has no offload on, so the kernel hands
// over whole checksums and packets within the MTU.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "io/socket.hpp"
#include "relay/device_link.hpp"

namespace rtether::device {

class PacketLink final : public relay::DeviceLink {
 public:
  // Takes the descriptor over and makes it non-blocking. `queue`: which
  // queue of a multi-queue tun the descriptor is (tun_steering.hpp).
  explicit PacketLink(io::Fd fd, relay::QueueSlot queue = {});

  int fd() const override { return fd_.get(); }
  bool is_stream() const override { return false; }
  relay::LinkRead read(relay::PacketSink& sink, int budget, bool hung_up) override;
  relay::LinkSend send(wire::Bytes queued) override;
  bool completes_checksums() const override { return header_size_ != 0; }
  relay::QueueSlot queue() const override { return queue_; }

 private:
  io::Fd fd_;
  relay::QueueSlot queue_;
  std::size_t header_size_ = 0;             // the virtio-net header's, 0 without one
  std::unique_ptr<std::uint8_t[]> buffer_;  // the header and one maximal packet
};

}  // namespace rtether::device
