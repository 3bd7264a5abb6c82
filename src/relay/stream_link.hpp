// StreamLink: the DeviceLink of a client process (Gnirehtet's app, `rtether
// client`): a connected stream socket carrying raw IP packets back to back,
// cut by the StreamFramer (each packet's own length field, any split of
// reads). See device_link.hpp.
#pragma once

#include "io/socket.hpp"
#include "relay/device_link.hpp"
#include "wire/stream_framer.hpp"

namespace rtether::relay {

class StreamLink final : public DeviceLink {
 public:
  // Sets TCP_NODELAY and large kernel buffers on the socket.
  explicit StreamLink(io::Fd socket);

  int fd() const override { return socket_.get(); }
  bool is_stream() const override { return true; }
  // Each read fills the framer's free space; a short read means drained.
  LinkRead read(PacketSink& sink, int budget, bool hung_up) override;
  // One send of as much of `queued` as the socket takes: a stream may take
  // part of a packet, the rest goes with the next send.
  LinkSend send(wire::Bytes queued) override;

 private:
  io::Fd socket_;
  wire::StreamFramer framer_;
};

}  // namespace rtether::relay
