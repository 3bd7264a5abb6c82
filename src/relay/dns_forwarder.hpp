// DnsForwarder: the relay's own resolver, 10.0.2.3 and fd00::2:3 port 53
// as the device sees it (wire/gnirehtet.hpp), one per client session. The
// device's queries are forwarded to the host's resolvers
// (config.dns_upstreams: the host's resolv.conf, its 127.0.0.53 stub
// included, or --dns-upstream), each by a DnsUpstreamQuery (IDs,
// timeouts, failover, SERVFAIL: dns_upstream_query.hpp).
//
//   UDP: ClientSession hands every datagram to the resolver's port 53 here
//        instead of opening a UdpFlow; the answer goes back as a datagram
//        from the resolver's address and port 53 to the asker's port.
//   TCP: the device's connection to port 53 is a normal TcpFlow whose host
//        side dials this forwarder's listener on 127.0.0.1 (an ephemeral
//        port, opened on first use); each accepted connection is a
//        DnsTcpConnection that frames queries and answers. So the device
//        gets the relay's whole TCP (windows, retransmission, FIN) for free.
//        A host process can reach that listener too, and get what it can
//        have anyway: an answer from the host's own resolvers.
//
// Malformed queries (parse_dns_query: not a standard query with one
// well-formed question) are counted drops (dns_bad_queries). Memory is
// bounded per client: at most config.max_dns_queries_per_client queries in
// flight (more are dropped, dns_drop_in_flight_limit), each holding its
// query and one socket, and at most kMaxTcpConnections DNS TCP connections
// (dns_drop_tcp_connection_limit). Nothing here blocks the loop.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "io/accept_pause.hpp"
#include "io/event_loop.hpp"
#include "io/socket.hpp"
#include "relay/deferred_task.hpp"
#include "relay/dns_tcp_connection.hpp"
#include "relay/dns_upstream_query.hpp"
#include "relay/flow_context.hpp"
#include "wire/ip_packet.hpp"
#include "wire/transport.hpp"

namespace rtether::relay {

class DnsForwarder final : public io::Handler {
 public:
  static constexpr std::size_t kMaxTcpConnections = 64;

  explicit DnsForwarder(FlowContext& context);
  ~DnsForwarder() override;
  DnsForwarder(const DnsForwarder&) = delete;
  DnsForwarder& operator=(const DnsForwarder&) = delete;

  // 10.0.2.3 or fd00::2:3, port 53: what this forwarder answers.
  static bool is_resolver(const wire::IpAddress& address, std::uint16_t port);

  // A datagram from the device to the resolver.
  void on_udp_query(const wire::IpPacket& packet, const wire::UdpView& udp);
  // Where a TcpFlow to the resolver connects; nullopt when no listener
  // could be opened (logged; the device's SYN is then refused).
  std::optional<io::Endpoint> tcp_endpoint();
  std::size_t queries_in_flight() const { return pending_.size(); }
  // Ends every query and connection and the listener (idempotent).
  void close();

  void on_ready(io::Readiness readiness) override;  // the listener

 private:
  struct UdpAsker {
    wire::IpAddress device;
    std::uint16_t device_port = 0;
    wire::IpAddress resolver;  // the address the device asked, answered from
  };
  struct Pending {
    std::unique_ptr<DnsUpstreamQuery> query;
    UdpAsker udp;                      // for a UDP query
    std::uint64_t tcp_connection = 0;  // for a TCP query: the connection's serial
  };

  // Starts a query; false when it was dropped (counted).
  bool submit(wire::Bytes message, DnsUpstreamQuery::Asker asker, const UdpAsker& udp,
              std::uint64_t tcp_connection);
  void on_answer(std::uint64_t ticket, wire::MutableBytes answer);
  void send_udp_answer(const UdpAsker& asker, wire::Bytes answer);
  bool on_tcp_query(DnsTcpConnection& connection, wire::Bytes message);
  void on_tcp_closed(DnsTcpConnection& connection);
  void accept(io::Fd socket);
  void reap();

  FlowContext& context_;
  std::vector<std::uint8_t> receive_buffer_;  // UDP answers, allocated on the first query
  ProxyUdpHealth proxy_udp_health_;           // shared by the queries (dns_upstream_query.hpp)
  std::unordered_map<std::uint64_t, Pending> pending_;
  std::uint64_t next_ticket_ = 0;
  io::Fd listener_;
  std::optional<io::Endpoint> listener_endpoint_;
  io::AcceptPause accept_;  // after listener_: leaves the loop before it closes
  std::unordered_map<std::uint64_t, std::unique_ptr<DnsTcpConnection>> connections_;
  std::uint64_t next_connection_ = 1;  // 0: no connection
  // Finished queries and closed connections, destroyed after the current
  // batch (they may be inside their own handler).
  std::vector<std::unique_ptr<DnsUpstreamQuery>> finished_queries_;
  std::vector<std::unique_ptr<DnsTcpConnection>> closed_connections_;
  bool closed_ = false;
  DeferredTask reap_task_;
};

}  // namespace rtether::relay
