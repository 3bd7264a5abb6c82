// UdpFlow: one device UDP association (source address/port to destination
// address/port) bridged to one connected host UDP socket. Datagram
// boundaries are kept both ways; replies are read only when the client's
// output queue has room for a whole datagram. Expires after
// config.udp_idle_timeout without traffic either way.
#pragma once

#include "io/event_loop.hpp"
#include "io/socket.hpp"
#include "relay/flow.hpp"
#include "wire/packet_builder.hpp"

namespace rtether::relay {

class UdpFlow final : public Flow {
 public:
  UdpFlow(ClientSession& session, const FlowKey& key);

  // Creates and connects the host socket; false (and nothing registered) on failure.
  bool open();

  void on_device_packet(const wire::IpPacket& packet) override;
  void on_ready(std::uint32_t events) override;
  void pump() override;
  void shut_down() override;

 private:
  void on_timer();
  void finish();

  io::Fd socket_;
  io::Timer timer_;
  wire::UdpDatagramHeader header_;  // toward the device
  io::Time last_activity_;
  bool readable_ = false;
};

}  // namespace rtether::relay
