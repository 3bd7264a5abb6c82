// TimeWaitFlow: a relayed TCP connection in TIME-WAIT, after its TcpFlow
// has gone. Both directions are finished and the host socket is closed;
// what is left is to re-acknowledge a retransmitted FIN of the device for
// 2 MSL (RFC 9293 3.10.7.4) and to let a new SYN take the 5-tuple
// (RFC 6191). A TcpFlow that reaches TIME-WAIT with nothing owed to the host
// hands its place in the FlowTable to one of these (FlowTable::
// replace_lingering): a tcp::TimeWait record, under a fifth of a TcpFlow,
// and no timer of its own (the table ends lingering flows in deadline
// order with one), so the host-closes-first connections of a busy client
// (thousands a second, each lingering 2 MSL) cost little memory and no
// timer-heap work.
#pragma once

#include "io/event_loop.hpp"
#include "relay/flow.hpp"
#include "tcp/time_wait.hpp"

namespace rtether::relay {

class TimeWaitFlow final : public Flow {
 public:
  TimeWaitFlow(FlowContext& context, const FlowKey& key, const tcp::TimeWait& state);
  ~TimeWaitFlow() override = default;

  // When 2 MSL ends (FlowTable::replace_lingering's `until`).
  io::Time deadline() const { return state_.deadline(); }

  void on_device_packet(const wire::IpPacket& packet) override;
  void on_ready(io::Readiness) override {}  // no socket
  void pump() override {}                    // sends only ACKs, never parks
  void shut_down() override;
  // No connection is left to reset: the record just goes.
  void abort() override { shut_down(); }
  bool replaceable_by_syn() const override { return true; }

 private:
  void send(const tcp::OutSegment& segment);

  tcp::TimeWait state_;
};

}  // namespace rtether::relay
