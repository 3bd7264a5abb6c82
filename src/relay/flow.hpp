// Flow: one relayed conversation (TCP connection, UDP association or ICMP
// echo identifier) of one client, owning its host socket. The session
// dispatches device packets to it by FlowKey; the event loop dispatches host
// socket readiness to it. All it may ask of the session is its FlowContext.
//
// Lifecycle (opening, live, parked, lingering, retired): see flow_table.hpp;
// the FlowTable owns every transition, the flow asks for them.
#pragma once

#include <cstdint>

#include "io/event_loop.hpp"
#include "io/socket.hpp"
#include "relay/flow_key.hpp"
#include "wire/ip_packet.hpp"

namespace rtether::relay {

class FlowContext;

class Flow : public io::Handler {
 public:
  Flow(FlowContext& context, const FlowKey& key) : context_(context), key_(key) {}
  ~Flow() override = default;
  Flow(const Flow&) = delete;
  Flow& operator=(const Flow&) = delete;

  const FlowKey& key() const { return key_; }
  bool retired() const { return retired_; }
  bool lingering() const { return lingering_; }
  // The forward (PortForwarder id, from 1) that opened this flow; 0 for a
  // flow the device opened.
  std::uint32_t forward_id() const { return forward_id_; }
  void set_forward_id(std::uint32_t id) { forward_id_ = id; }

  // A device packet for this flow (transport header not yet parsed).
  virtual void on_device_packet(const wire::IpPacket& packet) = 0;
  // Room in the output queue returned (the flow was parked).
  virtual void pump() = 0;
  // The client is gone: release the host side now.
  virtual void shut_down() = 0;
  // The relay ends the flow while the client stays (its forward was
  // removed): reset both sides where the protocol has a reset.
  virtual void abort() { shut_down(); }
  // True when a new connection may take this flow's 5-tuple: a bare SYN
  // for a TCP flow in TIME-WAIT (RFC 6191 lets a new SYN end TIME-WAIT).
  virtual bool replaceable_by_syn() const { return false; }

 protected:
  // Takes the host socket out of the loop, then closes it: every backend
  // forgets the fd explicitly (epoll would on close, WSAPoll or kqueue
  // sets kept by the loop would not).
  void close_socket(io::Fd& socket);

  FlowContext& context_;
  FlowKey key_;
  bool retired_ = false;

 private:
  std::uint32_t forward_id_ = 0;
  friend class FlowTable;
  // The FlowTable's lists: a flow is on at most one, the waiting list
  // (parked, live) or the lingering list (by deadline, lingering_until_).
  Flow* list_next_ = nullptr;
  Flow* list_prev_ = nullptr;
  io::Time lingering_until_{};
  bool waiting_ = false;
  bool lingering_ = false;
};

}  // namespace rtether::relay
