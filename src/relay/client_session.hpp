// ClientSession: one connected device. Reads the client stream, frames it
// into IP packets, dispatches them to flows by FlowKey, and owns the single
// output queue toward the device. It is the FlowContext of its flows (they
// see only that), and it holds their FlowTable, the ICMP-error port and the
// forwarded (host -> device) side.
//
// Data flow:
//   client socket -> StreamFramer -> parse_ip -> FlowTable lookup -> Flow
//   Flow -> reserve()/commit() packet in the output queue -> send() to client
// Output is flushed once per event-loop iteration (all flows' packets in one
// send) or as soon as a flow needs room. When the client socket is full, the
// queue stops accepting data packets and flows park; EPOLLOUT drains it and
// wakes them in order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include "io/event_loop.hpp"
#include "io/socket.hpp"
#include "relay/byte_queue.hpp"
#include "relay/config.hpp"
#include "relay/counters.hpp"
#include "relay/deferred_task.hpp"
#include "relay/flow_context.hpp"
#include "relay/flow_table.hpp"
#include "relay/forwarded_flows.hpp"
#include "relay/icmp_error_sender.hpp"
#include "wire/stream_framer.hpp"

namespace rtether::relay {

class ClientSession : public io::Handler, private FlowContext {
 public:
  using ClosedCallback = std::function<void(std::uint32_t id)>;
  ClientSession(io::EventLoop& loop, io::Fd socket, std::uint32_t id, const RelayConfig& config,
                ClosedCallback on_closed);
  ~ClientSession() override;

  // Registers with the loop and writes the 4-byte client id.
  void start();
  void on_ready(std::uint32_t events) override;
  // Closes every flow and the client socket (idempotent).
  void close(const char* reason);

  std::uint32_t id() const { return id_; }
  std::size_t flow_count() const { return flows_.size(); }
  std::size_t live_flow_count() const { return flows_.live_count(); }
  Counters& counters() override { return counters_; }
  const Counters& counters() const { return counters_; }
  std::size_t buffer_budget_left() const override;
  // Port forwarding toward this device.
  ForwardedFlows& forwards() { return forwards_; }

 private:
  // FlowContext.
  io::EventLoop& loop() override { return loop_; }
  io::Time now() const override { return loop_.now(); }
  const RelayConfig& config() const override { return config_; }
  FlowTable& flows() override { return flows_; }
  wire::MutableBytes reserve(std::size_t bytes, bool control) override;
  void commit(std::size_t bytes) override;
  void wait_for_output(Flow& flow) override;
  void add_buffered(long delta) override { buffered_bytes_ += delta; }
  IcmpErrorSender& icmp_errors() override { return icmp_errors_; }
  std::uint32_t random_iss() override { return static_cast<std::uint32_t>(random_()); }
  wire::MutableBytes peek_scratch(std::size_t bytes) override;
  FlowContext& context() { return *this; }

  void read_client();
  void handle_packet(wire::Bytes bytes);
  void handle_tcp(const wire::IpPacket& packet);
  void handle_udp(const wire::IpPacket& packet);
  void handle_icmp(const wire::IpPacket& packet);
  void refuse_icmp_echo(const wire::IpPacket& packet, int error);
  void send_stateless_reset(const wire::IpPacket& packet);
  void flush();
  void wake_waiting();

  io::EventLoop& loop_;
  io::Fd socket_;
  std::uint32_t id_;
  const RelayConfig& config_;
  ClosedCallback on_closed_;
  wire::StreamFramer framer_;
  ByteQueue output_;
  Counters counters_;
  std::mt19937 random_;
  std::size_t buffered_bytes_ = 0;
  std::vector<std::uint8_t> peek_scratch_;
  IcmpErrorSender icmp_errors_;
  ForwardedFlows forwards_;
  bool closed_ = false;
  bool output_blocked_ = false;
  bool client_hung_up_ = false;  // EPOLLRDHUP/HUP seen: read to the end
  // After everything the flows use from their destructors (budget, counters).
  FlowTable flows_;
  DeferredTask flush_task_;  // one send of all packets queued this batch
  DeferredTask read_task_;   // read on after the read budget ran out
  DeferredTask wake_task_;   // flush, then pump the parked flows
};

}  // namespace rtether::relay
