// DatagramFlow: what UdpFlow and IcmpFlow share. One host datagram socket,
// the start of the device's last packet (quoted by ICMP errors), an idle
// timer (the flow ends after `idle_timeout` without traffic either way: the
// subclass calls touch() on each device packet and each host datagram it
// counts as traffic), and the read loop toward the device.
//
// The read loop (pump) pulls: a host datagram is read only when the output
// queue has room for a whole packet, straight into that room after space for
// its headers; otherwise the flow parks until room returns. A read error is
// a pending ICMP error, reported from the error queue, and reading goes on.
// Each subclass says how a datagram is read and how its packet is framed.
#pragma once

#include <chrono>
#include <cstddef>

#include "io/event_loop.hpp"
#include "io/socket.hpp"
#include "relay/error_quote.hpp"
#include "relay/deferred_task.hpp"
#include "relay/flow.hpp"

namespace rtether::relay {

class DatagramFlow : public Flow {
 public:
  void shut_down() override { finish(); }
  void pump() final;

 protected:
  // header_room: bytes before the datagram in its packet to the device;
  // max_datagram: the most the packet can carry after them.
  DatagramFlow(FlowContext& context, const FlowKey& key, std::chrono::seconds idle_timeout,
               std::size_t header_room, std::size_t max_datagram);

  // Reads one host datagram into `into`: its length (more than into.size()
  // when cut), or the error (would_block() when none waits; interrupted when
  // it gave up for this turn with more perhaps queued: pump goes on after
  // the current batch of events).
  virtual io::Result<std::size_t> receive(wire::MutableBytes into) = 0;
  // The packet to the device for the `length` bytes just read into `room`
  // after header_room: writes its headers and returns its size, or 0 when
  // the datagram is dropped (counted). Calls touch() for traffic.
  virtual std::size_t frame(wire::MutableBytes room, std::size_t length) = 0;

  void touch();
  // Registers socket_ for readability and arms the idle timer.
  void watch_socket();
  void finish();

  io::Fd socket_;
  ErrorQuote quote_;
  bool readable_ = false;
  const std::size_t max_datagram_;

 private:
  void on_timer();

  io::Timer timer_;
  DeferredTask resume_;
  io::Time last_activity_;
  std::chrono::seconds idle_timeout_;
  std::size_t header_room_;
};

}  // namespace rtether::relay
