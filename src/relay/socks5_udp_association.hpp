// Socks5UdpAssociation: the TCP control connection of one SOCKS5 UDP
// ASSOCIATE (RFC 1928 7), for one device UDP flow (UdpFlow). One
// association per flow, not per session: each flow's datagrams then come
// back on a socket of its own, with no demultiplexing by peer, and a flow's
// end (idle timeout) ends exactly its association.
//
// It connects to the proxy, asks UDP ASSOCIATE with the all-zeros address
// (RFC 1928 7: the client does not know the address it will send from
// before it has a socket), and reports where the proxy relays datagrams
// (BND.ADDR:BND.PORT; an all-zeros BND.ADDR is the proxy's own address).
// The association lives as long as this connection (RFC 1928 7): the proxy
// closing it, any failure, or no answer within config.proxy_timeout is
// reported once, with the proxy_* counter of the reason.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "io/event_loop.hpp"
#include "io/socket.hpp"
#include "relay/deferred_task.hpp"
#include "wire/socks5_client.hpp"

namespace rtether::relay {

class FlowContext;

class Socks5UdpAssociation final : public io::Handler {
 public:
  struct Callbacks {
    std::function<void(const io::Endpoint& relay)> associated;
    // After this the association does nothing more.
    std::function<void(std::uint64_t& counter, const std::string& why)> ended;
  };

  Socks5UdpAssociation(FlowContext& context, Callbacks callbacks);
  ~Socks5UdpAssociation() override;
  Socks5UdpAssociation(const Socks5UdpAssociation&) = delete;
  Socks5UdpAssociation& operator=(const Socks5UdpAssociation&) = delete;

  // Starts the non-blocking connect to config.proxy; the error when it
  // cannot even start (nothing is then reported through the callbacks).
  std::error_code open();
  bool associated() const { return associated_; }

  void on_ready(io::Readiness readiness) override;

 private:
  void advance();
  void end(std::uint64_t& counter, const std::string& why);

  FlowContext& context_;
  Callbacks callbacks_;
  io::Fd socket_;
  wire::Socks5Client handshake_;
  io::Timer timer_;
  DeferredTask advance_later_;
  bool connecting_ = false;
  bool associated_ = false;
  bool ended_ = false;
};

}  // namespace rtether::relay
