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
#pragma once

#include <optional>

#include "io/event_loop.hpp"
#include "io/socket.hpp"
#include "relay/byte_queue.hpp"
#include "relay/flow.hpp"
#include "tcp/endpoint.hpp"
#include "wire/packet_builder.hpp"

namespace rtether::relay {

class TcpFlow final : public Flow {
 public:
  TcpFlow(ClientSession& session, const FlowKey& key, const tcp::Segment& syn);
  // Port forwarding: `accepted` is the host connection; key.source is the
  // device's address and server port.
  TcpFlow(ClientSession& session, const FlowKey& key, io::Fd accepted);
  ~TcpFlow() override;

  // Starts the non-blocking host connect (called once after insertion).
  void connect();
  // Forwarded flow: registers the host socket and sends the SYN.
  void start_forwarded();

  void on_device_packet(const wire::IpPacket& packet) override;
  void on_ready(io::Readiness readiness) override;
  void pump() override;
  void shut_down() override;
  bool replaceable_by_syn() const override {
    return endpoint_.state() == tcp::State::TimeWait && !owes_host();
  }

 private:
  void on_connect_done(const std::error_code& error);
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
  void enter_lingering();
  void finish();
  // Device data acknowledged before the device's FIN and not yet written to
  // the host: the flow keeps its socket until it is, whatever the endpoint's
  // state (TIME-WAIT, or CLOSED after LAST-ACK), up to kDrainTimeout.
  bool owes_host() const {
    return device_fin_ && !to_host_.empty() && socket_.valid() && !host_write_failed_;
  }

  tcp::Endpoint endpoint_;
  io::Fd socket_;
  io::Timer timer_;
  ByteQueue to_host_;
  wire::TcpSegmentHeader header_;  // addresses and ports toward the device
  bool connecting_ = false;
  bool host_readable_ = false;
  bool host_eof_ = false;         // host sent FIN and every byte was peeked
  bool device_fin_ = false;       // device FIN consumed; shutdown pending data
  bool host_write_shut_ = false;
  bool host_write_blocked_ = false;
  bool host_write_failed_ = false;  // the host closed or reset: queued data is lost
  tcp::Time drain_deadline_ = tcp::Time::max();
  bool host_fin_seen_ = false;    // peer closed: the host will send no more
  bool peek_offset_ = true;       // the host socket keeps a peek offset
  bool lingering_ = false;        // in TIME-WAIT: host socket closed, not counted as live
};

}  // namespace rtether::relay
