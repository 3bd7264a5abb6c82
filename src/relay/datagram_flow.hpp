// DatagramFlow: what UdpFlow and IcmpFlow share. One host datagram socket,
// the start of the device's last packet (quoted by ICMP errors), and an idle
// timer: the flow ends after `idle_timeout` without traffic either way
// (the subclass calls touch() on each datagram).
#pragma once

#include <chrono>

#include "io/event_loop.hpp"
#include "io/socket.hpp"
#include "relay/error_quote.hpp"
#include "relay/flow.hpp"

namespace rtether::relay {

class DatagramFlow : public Flow {
 public:
  void shut_down() override { finish(); }

 protected:
  DatagramFlow(ClientSession& session, const FlowKey& key, std::chrono::seconds idle_timeout);

  void touch();
  // Registers socket_ for readability and arms the idle timer.
  void watch_socket();
  void finish();

  io::Fd socket_;
  ErrorQuote quote_;
  bool readable_ = false;

 private:
  void on_timer();

  io::Timer timer_;
  io::Time last_activity_;
  std::chrono::seconds idle_timeout_;
};

}  // namespace rtether::relay
