// FlowContext: everything a flow may ask of the client session it belongs
// to, and nothing more. Flows see this, never ClientSession, so a flow's
// dependencies are read off one page (and a test can provide them):
//   - the event loop (sockets, timers) and its clock;
//   - the relay configuration and the session's counters, and where its
//     host sockets leave from (io::Outbound);
//   - the FlowTable, for the flow's own lifecycle steps (park, linger,
//     retire; see flow_table.hpp);
//   - room in the output queue toward the device: reserve() a packet's
//     bytes, write it in place, commit() it; when there is no room, park
//     with wait_for_output() and pump() is called when room returns;
//   - the per-client budget of device bytes flows buffer for slow hosts;
//   - the ICMP-error port toward the device (rate-limited), and how TCP
//     and UDP packets toward it carry their checksums;
//   - random initial sequence numbers and a scratch buffer for peeking.
#pragma once

#include <cstddef>
#include <cstdint>

#include "io/event_loop.hpp"
#include "relay/config.hpp"
#include "relay/counters.hpp"
#include "wire/bytes.hpp"
#include "wire/packet_builder.hpp"

namespace rtether::relay {

class Flow;
class FlowTable;
class IcmpErrorSender;

class FlowContext {
 public:
  virtual io::EventLoop& loop() = 0;
  virtual io::Time now() const = 0;
  virtual const RelayConfig& config() const = 0;
  // Where this client's host sockets leave from (config().outbound_for).
  virtual const io::Outbound& outbound() const = 0;
  virtual Counters& counters() = 0;
  virtual FlowTable& flows() = 0;

  // Room for one packet of `bytes`, or empty: data packets leave
  // config.control_reserve free for control packets (a control packet that
  // finds no room is counted as drop_output_full).
  virtual wire::MutableBytes reserve(std::size_t bytes, bool control) = 0;
  // The first `bytes` of the last reserve() are a packet for the device.
  virtual void commit(std::size_t bytes) = 0;
  // Parks the flow until the output has room again (then pump()).
  virtual void wait_for_output(Flow& flow) = 0;

  // Device bytes buffered by flows, against config.client_buffer_budget.
  virtual std::size_t buffer_budget_left() const = 0;
  virtual void add_buffered(long delta) = 0;

  virtual IcmpErrorSender& icmp_errors() = 0;
  // How TCP and UDP packets for the device carry their checksum: whole, or
  // the pseudo header's sum for the link to complete (DeviceLink::
  // completes_checksums). Every TCP and UDP packet a flow builds uses it.
  virtual wire::ChecksumMode checksums() const = 0;
  virtual std::uint32_t random_iss() = 0;
  // Scratch space for peeking past in-flight bytes on kernels without
  // SO_PEEK_OFF; allocated on first use, shared by the session's flows.
  virtual wire::MutableBytes peek_scratch(std::size_t bytes) = 0;

 protected:
  ~FlowContext() = default;
};

}  // namespace rtether::relay
