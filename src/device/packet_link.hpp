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
#pragma once

#include <cstdint>
#include <memory>

#include "io/socket.hpp"
#include "relay/device_link.hpp"

namespace rtether::device {

class PacketLink final : public relay::DeviceLink {
 public:
  // Takes the descriptor over and makes it non-blocking.
  explicit PacketLink(io::Fd fd);

  int fd() const override { return fd_.get(); }
  bool is_stream() const override { return false; }
  relay::LinkRead read(relay::PacketSink& sink, int budget, bool hung_up) override;
  relay::LinkSend send(wire::Bytes queued) override;

 private:
  io::Fd fd_;
  std::unique_ptr<std::uint8_t[]> buffer_;  // one maximal packet
};

}  // namespace rtether::device
