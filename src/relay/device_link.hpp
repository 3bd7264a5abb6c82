// DeviceLink: how a ClientSession exchanges IP packets with its device.
//
// Two kinds exist. A stream link (StreamLink, stream_link.hpp) is Gnirehtet's
// byte stream: a socket to a client process (`rtether client`, the Android
// app) carrying raw IP packets back to back, cut by each packet's own length
// field, and opened by the relay's greeting (the client id, with --secret a
// nonce to answer). A packet link (device/packet_link.hpp, Linux) is a file
// descriptor where one read is one packet and one write is one packet: the
// tun the relay opened itself inside a network namespace (direct mode), with
// no client process, no greeting and no framing.
//
// The session registers fd() with its loop (edge-triggered) and calls read()
// and send() on readiness; the link makes the io calls.
#pragma once

#include <cstddef>
#include <system_error>

#include "relay/flow_key.hpp"
#include "wire/bytes.hpp"

namespace rtether::relay {

// Where a link delivers the packets it read.
class PacketSink {
 public:
  // One whole packet, valid only during the call. False: stop reading (the
  // session closed while handling it).
  virtual bool on_packet(wire::Bytes packet) = 0;

 protected:
  ~PacketSink() = default;
};

struct LinkRead {
  enum class Status {
    Drained,     // nothing more to read until the next readable edge
    BudgetUsed,  // data may be left: read again after other handlers ran
    Stopped,     // the sink asked to stop
    Ended,       // the device closed the link
    Failed,      // an error: `reason` (and `detail`) say which
  };
  Status status = Status::Drained;
  const char* reason = nullptr;  // Ended, Failed: for the session's close log
  const char* detail = nullptr;  // Failed: more for a warning, or null
};

struct LinkSend {
  std::size_t consumed = 0;  // bytes of `queued` the link is done with
  std::size_t refused = 0;   // of those, packets the device refused (counted drops)
  bool blocked = false;      // the link takes no more until its next writable edge
  std::error_code error;     // the link failed: the session closes
};

class DeviceLink {
 public:
  virtual ~DeviceLink() = default;

  // What the session watches (read, write, hang-up).
  virtual int fd() const = 0;
  // A stream carries the relay's greeting and the --secret answer before any
  // packet (the session reads and writes those on fd()); a packet link
  // carries packets only.
  virtual bool is_stream() const = 0;
  // Reads at most `budget` times, handing each whole packet to `sink`.
  // `hung_up`: the peer closed or failed, so no further edge will come;
  // read on to the end.
  virtual LinkRead read(PacketSink& sink, int budget, bool hung_up) = 0;
  // Sends from `queued` (whole packets back to back, as the session's
  // DeviceOutput holds them) as much as the link takes now.
  virtual LinkSend send(wire::Bytes queued) = 0;
  // Whether the link completes the TCP and UDP checksums of the packets it
  // sends (a tun with a virtio-net header: device/packet_link.hpp). Then
  // every TCP and UDP packet queued for it carries only the pseudo header's
  // sum (wire::ChecksumMode::PseudoHeaderOnly); a stream's device (the
  // Gnirehtet app, `rtether client`) gets whole checksums.
  virtual bool completes_checksums() const { return false; }
  // Which queue of a multi-queue tun this link is (flow_key.hpp, QueueSlot):
  // the device's kernel hands it the packets of that queue's flows only.
  // A stream, or a tun of one queue: the only one.
  virtual QueueSlot queue() const { return {}; }
};

}  // namespace rtether::relay
