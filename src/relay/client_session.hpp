// ClientSession: one connected device: dispatch. Reads IP packets from the
// device's link (DeviceLink: a client stream, or in direct mode the tun the
// relay opened itself) and dispatches them to flows by
// FlowKey, opening flows for first packets and answering what belongs to no
// flow (a stateless reset, an ICMP error, a counted drop). It is the
// FlowContext of its flows (they see only that) and holds what that context
// is made of: the FlowTable, the DeviceOutput queue, the ICMP-error port,
// the budget, the forwarded (host -> device) side and the DNS forwarder
// (the device's resolver at 10.0.2.3 / fd00::2:3).
//
// Data flow:
//   DeviceLink::read -> parse_ip -> FlowTable lookup -> Flow
//   Flow -> reserve()/commit() packet in the DeviceOutput -> DeviceLink::send
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "io/event_loop.hpp"
#include "io/socket.hpp"
#include "relay/config.hpp"
#include "relay/counters.hpp"
#include "relay/deferred_task.hpp"
#include "relay/device_link.hpp"
#include "relay/device_output.hpp"
#include "relay/dns_forwarder.hpp"
#include "relay/flow_context.hpp"
#include "relay/flow_table.hpp"
#include "relay/forwarded_flows.hpp"
#include "relay/icmp_error_sender.hpp"
#include "relay/secret_check.hpp"

namespace rtether::relay {

class ClientSession : public io::Handler, private FlowContext, private PacketSink {
 public:
  using ClosedCallback = std::function<void(std::uint32_t id)>;
  // A client process's stream socket (a StreamLink), or a link the caller
  // opened (direct mode). `serial`: the adb serial of the device whose
  // reverse tunnel the client came through (the label of the relay's
  // listener); empty when unknown.
  ClientSession(io::EventLoop& loop, io::Fd socket, std::uint32_t id, const RelayConfig& config,
                ClosedCallback on_closed, std::string serial = {});
  ClientSession(io::EventLoop& loop, std::unique_ptr<DeviceLink> link, std::uint32_t id,
                const RelayConfig& config, ClosedCallback on_closed, std::string serial = {});
  ~ClientSession() override;

  // Registers with the loop; on a stream, writes the 4-byte client id (and,
  // with a secret, the nonce of the handshake). A packet link has no
  // handshake: the relay opened that device itself.
  void start();
  void on_ready(io::Readiness readiness) override;
  // Closes every flow and the device link (idempotent).
  void close(const char* reason);

  std::uint32_t id() const { return id_; }
  const std::string& serial() const { return serial_; }
  QueueSlot queue() const { return link_->queue(); }  // of a multi-queue tun (DeviceLink::queue)
  // False until the client answered the --secret handshake (always true
  // without one): nothing is relayed to or from it before.
  bool relaying() const {
    return !secret_check_ || secret_check_->state() == SecretCheck::State::Passed;
  }
  std::size_t flow_count() const { return flows_.size(); }
  std::size_t live_flow_count() const { return flows_.live_count(); }
  Counters& counters() override { return counters_; }
  const Counters& counters() const { return counters_; }
  std::size_t buffer_budget_left() const override;
  // Port forwarding toward this device.
  ForwardedFlows& forwards() { return forwards_; }
  // The device's resolver (10.0.2.3, fd00::2:3).
  const DnsForwarder& dns() const { return dns_; }

 private:
  // FlowContext.
  io::EventLoop& loop() override { return loop_; }
  io::Time now() const override { return loop_.now(); }
  const RelayConfig& config() const override { return config_; }
  const io::Outbound& outbound() const override { return config_.outbound_for(id_, serial_); }
  FlowTable& flows() override { return flows_; }
  wire::MutableBytes reserve(std::size_t bytes, bool control) override {
    return output_.reserve(bytes, control);
  }
  void commit(std::size_t bytes) override { output_.commit(bytes); }
  void wait_for_output(Flow& flow) override { output_.wait_for_output(flow); }
  void add_buffered(long delta) override { buffered_bytes_ += delta; }
  IcmpErrorSender& icmp_errors() override { return icmp_errors_; }
  wire::ChecksumMode checksums() const override { return checksums_; }
  std::uint32_t random_iss() override { return static_cast<std::uint32_t>(random_()); }
  wire::MutableBytes peek_scratch(std::size_t bytes) override;
  FlowContext& context() { return *this; }

  void read_client();
  // PacketSink: one packet from the link.
  bool on_packet(wire::Bytes packet) override;
  // Reads the handshake answer; true once it passed (packets follow).
  bool read_secret_answer();
  void start_secret_check(std::uint8_t* nonce);
  void on_secret_deadline();
  void handle_packet(wire::Bytes bytes);
  void handle_tcp(const wire::IpPacket& packet);
  void handle_udp(const wire::IpPacket& packet);
  void handle_icmp(const wire::IpPacket& packet);
  void refuse_icmp_echo(const wire::IpPacket& packet, const std::error_code& error);
  void send_stateless_reset(const wire::IpPacket& packet);
  // A new flow to `destination` is refused (and counted): host loopback off.
  bool refuses_destination(const wire::IpAddress& destination);

  io::EventLoop& loop_;
  std::unique_ptr<DeviceLink> link_;
  wire::ChecksumMode checksums_;  // as link_ takes them (DeviceLink::completes_checksums)
  std::uint32_t id_;
  const RelayConfig& config_;
  ClosedCallback on_closed_;
  std::string serial_;
  Counters counters_;
  std::mt19937 random_;
  std::size_t buffered_bytes_ = 0;
  std::vector<std::uint8_t> peek_scratch_;
  IcmpErrorSender icmp_errors_;
  ForwardedFlows forwards_;
  DnsForwarder dns_;
  bool closed_ = false;
  bool client_hung_up_ = false;  // peer closed, hang-up or error seen: read to the end
  // After everything the flows use from their destructors (budget, counters).
  FlowTable flows_;
  DeviceOutput output_;
  DeferredTask read_task_;  // read on after the read budget ran out
  std::optional<SecretCheck> secret_check_;  // with a secret only
  io::Timer secret_timer_;
};

}  // namespace rtether::relay
