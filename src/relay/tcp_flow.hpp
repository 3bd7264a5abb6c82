// TcpFlow: one device TCP connection bridged to one host TCP socket.
//
// Device -> host: segments go through tcp::Endpoint; in-order data is sent
// to the host socket at once, what it cannot take waits in a per-flow
// ByteQueue (allocated only then), and the endpoint ACKs only what was taken
// either way. The advertised window is the queue's free space.
// Host -> device: data is peeked (SO_PEEK_OFF), never read out, until the
// device ACKs it: the host socket's receive queue is the retransmission
// buffer, and a host socket is read only when the device window and the
// client output queue both have room.
// Half-close: device FIN -> shutdown of the host write side once queued data is written
// (the flow outlives its endpoint until then: that data was ACKed);
// host EOF -> FIN to the device after the data. Resets go both ways.
// A connect that fails with "no route" (or is prohibited) answers the device
// with an ICMP error instead of a reset, as a router on the way would.
// Forwarded flows (rtether relay --forward tcp:...) start from an accepted
// host connection and open the device side actively (the relay sends the SYN).
// Through an upstream proxy (config.proxy, relay/upstream_proxy.hpp) the
// host socket connects to the proxy, and the proxy's opening (a
// wire::ProxyHandshake: SOCKS5 CONNECT or HTTP CONNECT) runs before the
// flow counts as connected: its answers are peeked and only their own bytes
// discarded, so the target's first bytes stay in the socket for the peeks
// that follow. The device's SYN-ACK waits until the proxy says the target
// is connected; a proxy that cannot be reached, refuses, answers garbage or
// stays silent past config.proxy_timeout resets the device's connection
// (counted by reason: proxy_*).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "io/event_loop.hpp"
#include "io/outbound.hpp"
#include "io/socket.hpp"
#include "relay/byte_queue.hpp"
#include "relay/flow.hpp"
#include "tcp/endpoint.hpp"
#include "wire/packet_builder.hpp"
#include "wire/proxy_handshake.hpp"

namespace rtether::relay {

// Host-side connection events: what has happened on the host socket and on
// the way to it, one bit each. Together with the endpoint's TCP state they
// determine what the flow does next (as in passt's tcp.c: "connection events
// are used to determine state and actions"). The device side's state is the
// endpoint's (tcp::State); the flow's own lifecycle is the FlowTable's.
//
//   event             set by: when                          cleared by: when
//   Connecting        connect(): in progress                 on_connect_done()
//   HostReadable      on_ready(): readable, hang-up or       send_host_data(): a peek met
//                     error; rewind()                        "would block" or came back short
//   HostFinSeen       on_ready(): the peer hung up, the host -
//                     sends no more
//   HostEof           send_host_data(): every host byte and  rewind(): all unacknowledged
//                     the FIN were peeked and sent           data goes again
//   HostWriteBlocked  deliver_to_host() and                  on_ready(): writable
//                     write_pending_to_host(): a send was
//                     short or would block
//   HostWriteFailed   the same: a send failed (the host      - (queued data is lost)
//                     closed or reset)
//   HostWriteShut     write_pending_to_host(): shutdown      -
//                     of the write side after the device FIN's data
//   DeviceFin         take_device_data(): the device's FIN   -
//                     was consumed (all data before it)
//   PeekAfter         prepare_host_socket(): no SO_PEEK_OFF, -
//                     peek past the in-flight bytes instead
//   ProxyHandshake    on_connect_done(): connected to the    continue_proxy_handshake() /
//                     proxy, its opening under way           on_proxy_failed(): the proxy
//                     (Connecting stays set with it)         said connected, or failed
enum class HostEvent : std::uint16_t {
  Connecting = 1 << 0,
  HostReadable = 1 << 1,
  HostFinSeen = 1 << 2,
  HostEof = 1 << 3,
  HostWriteBlocked = 1 << 4,
  HostWriteFailed = 1 << 5,
  HostWriteShut = 1 << 6,
  DeviceFin = 1 << 7,
  PeekAfter = 1 << 8,
  ProxyHandshake = 1 << 9,
};

class HostEvents {
 public:
  bool has(HostEvent event) const { return (bits_ & bit(event)) != 0; }
  void set(HostEvent event) { bits_ |= bit(event); }
  void clear(HostEvent event) { bits_ &= static_cast<std::uint16_t>(~bit(event)); }

 private:
  static std::uint16_t bit(HostEvent event) { return static_cast<std::uint16_t>(event); }
  std::uint16_t bits_ = 0;
};

class TcpFlow final : public Flow {
 public:
  TcpFlow(FlowContext& context, const FlowKey& key, const tcp::Segment& syn);
  // Port forwarding: `accepted` is the host connection; key.source is the
  // device's address and server port.
  TcpFlow(FlowContext& context, const FlowKey& key, io::Fd accepted);
  ~TcpFlow() override;

  // Starts the non-blocking host connect (called once after insertion):
  // to the device's destination (address_map.hpp) from this client's
  // egress, or to `target` from `from` (the DNS forwarder's loopback
  // listener for 10.0.2.3:53, which no egress choice applies to).
  // With config.proxy the first connects to the proxy instead, which is
  // then asked for the destination.
  void connect();
  void connect(const io::Endpoint& target, const io::Outbound& from);
  // Forwarded flow: registers the host socket and sends the SYN.
  void start_forwarded();

  void on_device_packet(const wire::IpPacket& packet) override;
  void on_ready(io::Readiness readiness) override;
  void pump() override;
  void shut_down() override;
  // A RST to the device and the host side aborted. (Once in TIME-WAIT with
  // nothing owed the flow is a TimeWaitFlow, which has nothing to reset.)
  void abort() override;
  // Not replaceable_by_syn(): in TIME-WAIT with nothing owed to the host it
  // has already given its key to a TimeWaitFlow, which is; with data owed,
  // the connection is not over.

 private:
  void on_connect_done(const std::error_code& error);
  void continue_proxy_handshake();
  void on_proxy_failed(std::uint64_t& counter, std::string_view why);
  void prepare_host_socket();
  bool answer_with_icmp(const std::error_code& error);
  void take_device_data(wire::Bytes data);
  std::size_t deliver_to_host(wire::Bytes data);
  void write_pending_to_host();
  void update_receive_space();
  void send_host_data();
  void emit_control();
  void send_segment(const tcp::OutSegment& segment, std::size_t payload_length,
                    wire::MutableBytes room);
  void after_activity();
  void on_timer();
  void rewind();
  void enter_time_wait();
  void finish();
  bool has(HostEvent event) const { return events_.has(event); }
  // Device data acknowledged before the device's FIN and not yet written to
  // the host: the flow keeps its socket until it is, whatever the endpoint's
  // state (TIME-WAIT, or CLOSED after LAST-ACK), up to kDrainTimeout.
  bool owes_host() const {
    return has(HostEvent::DeviceFin) && !to_host_.empty() && socket_.valid() &&
           !has(HostEvent::HostWriteFailed);
  }

  tcp::Endpoint endpoint_;
  io::Fd socket_;
  io::Timer timer_;
  ByteQueue to_host_;
  wire::TcpSegmentHeader header_;  // addresses and ports toward the device
  HostEvents events_;
  tcp::Time drain_deadline_ = tcp::Time::max();
  // Only while the proxy's opening runs (ProxyHandshake).
  std::unique_ptr<wire::ProxyHandshake> proxy_handshake_;
  tcp::Time proxy_deadline_ = tcp::Time::max();
};

}  // namespace rtether::relay
