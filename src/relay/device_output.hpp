// DeviceOutput: the one queue of packets toward a device, in front of its
// DeviceLink (the client socket, or the tun in direct mode). Flows reserve
// room for a packet, write it in place and commit it; the queue is sent once per loop iteration for all flows (a
// deferred flush), or at once past kEagerFlushBytes or when a reserve finds
// no room. Data packets leave config.control_reserve free, so ACKs, resets
// and ICMP errors always find room while data waits.
//
// When the link is full (a send would block), the queue is blocked until
// the link is writable again (on_writable, from the session's readiness);
// flows that found no room park on the FlowTable's waiting list and are pumped, in order, when
// room returns (pull: a flow reads its host socket only into room it has).
#pragma once

#include <cstddef>
#include <functional>

#include "io/event_loop.hpp"
#include "relay/byte_queue.hpp"
#include "relay/config.hpp"
#include "relay/counters.hpp"
#include "relay/deferred_task.hpp"
#include "relay/device_link.hpp"
#include "relay/flow_table.hpp"
#include "wire/bytes.hpp"

namespace rtether::relay {

class DeviceOutput {
 public:
  // on_send_error closes the session (which owns `link` and outlives this).
  DeviceOutput(io::EventLoop& loop, DeviceLink& link, const RelayConfig& config,
               Counters& counters, FlowTable& flows, std::function<void()> on_send_error);

  // Room for one packet of `bytes`, or empty (a control packet that finds
  // none is counted as drop_output_full).
  wire::MutableBytes reserve(std::size_t bytes, bool control);
  void commit(std::size_t bytes);
  // Parks the flow until room returns.
  void wait_for_output(Flow& flow);
  // The link is writable again.
  void on_writable();
  // The session closed: nothing more is queued or sent.
  void close() { closed_ = true; }

 private:
  void flush();
  void wake_waiting();

  DeviceLink& link_;
  const RelayConfig& config_;
  Counters& counters_;
  FlowTable& flows_;
  std::function<void()> on_send_error_;
  ByteQueue queue_;
  bool blocked_ = false;  // a send would block; the next writable edge resumes
  bool closed_ = false;
  DeferredTask flush_task_;  // one send of all packets queued this batch
  DeferredTask wake_task_;   // flush, then pump the parked flows
};

}  // namespace rtether::relay
