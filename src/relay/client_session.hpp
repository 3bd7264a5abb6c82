// ClientSession: one connected device. Reads the client stream, frames it
// into IP packets, dispatches them to flows by FlowKey (hash map, no scan),
// and owns the single output queue toward the device.
//
// Data flow:
//   client socket -> StreamFramer -> parse_ip -> FlowTable lookup -> Flow
//   Flow -> reserve()/commit() packet in the output queue -> send() to client
// Output is flushed once per event-loop iteration (all flows' packets in one
// send) or as soon as a flow needs room. When the client socket is full, the
// queue stops accepting data packets and flows wait; writability drains it and
// wakes them in order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <unordered_map>

#include "io/event_loop.hpp"
#include "io/socket.hpp"
#include "relay/byte_queue.hpp"
#include "relay/config.hpp"
#include "relay/counters.hpp"
#include "relay/flow.hpp"
#include "relay/flow_key.hpp"
#include "wire/icmp_error.hpp"
#include "wire/stream_framer.hpp"

namespace rtether::relay {

class ClientSession : public io::Handler {
 public:
  using ClosedCallback = std::function<void(std::uint32_t id)>;
  ClientSession(io::EventLoop& loop, io::Fd socket, std::uint32_t id, const RelayConfig& config,
                ClosedCallback on_closed);
  ~ClientSession() override;

  // Registers with the loop and writes the 4-byte client id.
  void start();
  void on_ready(io::Readiness readiness) override;
  // Closes every flow and the client socket (idempotent).
  void close(const char* reason);

  std::uint32_t id() const { return id_; }
  std::size_t flow_count() const { return flows_.size(); }
  const Counters& counters() const { return counters_; }

  // --- for flows ---
  io::EventLoop& loop() { return loop_; }
  io::Time now() const { return loop_.now(); }
  const RelayConfig& config() const { return config_; }
  Counters& mutable_counters() { return counters_; }
  // Room for one packet of `bytes`, or empty: data packets leave
  // config.control_reserve free for control packets.
  wire::MutableBytes reserve(std::size_t bytes, bool control);
  void commit(std::size_t bytes);
  void wait_for_output(Flow* flow);
  // The flow is done: unlinked now, destroyed after the current batch. Its
  // owner closes the host socket right after, which also drops the fd from
  // epoll (no other process or descriptor shares it), so no epoll_ctl call.
  void retire(Flow* flow);
  std::uint32_t random_iss() { return static_cast<std::uint32_t>(random_()); }
  // Device bytes buffered by flows, against config.client_buffer_budget.
  std::size_t buffer_budget_left() const;
  void add_buffered(long delta) { buffered_bytes_ += delta; }
  // Flows kept only to absorb retransmitted FINs (TIME-WAIT); they hold no
  // socket and do not count against max_flows_per_client.
  void add_lingering(long delta) { lingering_flows_ += delta; }
  std::size_t live_flow_count() const { return flows_.size() - lingering_flows_; }
  // Scratch space for peeking past in-flight bytes on kernels without
  // SO_PEEK_OFF; allocated on first use.
  wire::MutableBytes peek_scratch(std::size_t bytes);
  // An ICMP error toward the device (`to`), from `from`, quoting the start
  // of the device packet it is about; uses the control reserve (counted when
  // even that is full). Withheld (counted) when `from`, the address the
  // device's packet went to, is broadcast or multicast, or over the rate
  // limit (config icmp_error_interval / icmp_error_burst). True when sent.
  bool send_icmp_error(wire::IcmpErrorKind kind, std::uint32_t mtu, const wire::IpAddress& from,
                       const wire::IpAddress& to, wire::Bytes quote);

  // --- port forwarding (host -> device) ---
  // The device's own address of this version: the source of its packets
  // (the last one seen), 10.0.0.2 / fd00::2 until it has sent any.
  wire::IpAddress device_address(wire::IpVersion version) const;
  // A host connection accepted by a TCP forward: the relay opens a TCP
  // connection to device_port (it sends the SYN) and bridges the two.
  // False (the socket is closed) when no relay-side port is free or the
  // flow limit is reached.
  bool open_forwarded_tcp(io::Fd accepted, std::uint16_t device_port);
  // A host peer's first datagram to a UDP forward: `socket` is bound to the
  // forward's port and connected to `peer`; `datagram` goes to the device
  // now, later ones arrive on `socket`.
  // Returns the new flow's key (for forward_udp_datagram), nullopt when
  // refused (counted).
  std::optional<FlowKey> open_forwarded_udp(io::Fd socket, const io::Endpoint& peer,
                                            std::uint16_t device_port, wire::Bytes datagram);
  // A datagram from `peer` that reached the forward's listening socket, for
  // the association opened for it under `key`; false (nothing sent) when
  // that flow is gone or the key now belongs to another flow (the port
  // was reused for another peer, or it is not a forwarded flow at all).
  bool forward_udp_datagram(const FlowKey& key, const io::Endpoint& peer, wire::Bytes datagram);

 private:
  void read_client();
  void handle_packet(wire::Bytes bytes);
  void handle_tcp(const wire::IpPacket& packet);
  void handle_udp(const wire::IpPacket& packet);
  void handle_icmp(const wire::IpPacket& packet);
  void refuse_icmp_echo(const wire::IpPacket& packet, const std::error_code& error);
  // A relay-side endpoint (10.0.2.2 / fd00::2:2 and a free port) for a
  // forwarded flow to device_port; nullopt when none is free.
  std::optional<FlowKey> forward_key(std::uint16_t device_port, std::uint8_t protocol);
  void send_stateless_reset(const wire::IpPacket& packet);
  // One ICMP error may go out now under the rate limit (taken if so).
  bool take_icmp_error_slot();
  void flush();
  void schedule_flush();
  void wake_waiting();
  void reap();

  io::EventLoop& loop_;
  io::Fd socket_;
  std::uint32_t id_;
  const RelayConfig& config_;
  ClosedCallback on_closed_;
  wire::StreamFramer framer_;
  ByteQueue output_;
  std::unordered_map<FlowKey, std::unique_ptr<Flow>, FlowKeyHash> flows_;
  std::vector<std::unique_ptr<Flow>> retired_;
  Flow* waiting_head_ = nullptr;
  Flow* waiting_tail_ = nullptr;
  Counters counters_;
  std::mt19937 random_;
  std::size_t buffered_bytes_ = 0;
  std::size_t lingering_flows_ = 0;
  std::vector<std::uint8_t> peek_scratch_;
  std::optional<wire::IpAddress> device_v4_;
  std::optional<wire::IpAddress> device_v6_;
  std::uint16_t next_forward_port_ = 0;
  // ICMP error rate limit (GCRA): when the next error would be due if they
  // came at exactly the configured rate; up to burst - 1 intervals ahead of
  // now are allowed.
  io::Time icmp_error_due_{};
  bool closed_ = false;
  bool flush_scheduled_ = false;
  bool read_scheduled_ = false;
  bool reap_scheduled_ = false;
  bool output_blocked_ = false;
  bool client_hung_up_ = false;  // peer closed, hang-up or error seen: read to the end
  // Shared by deferred callbacks: they check it before touching the session.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace rtether::relay
