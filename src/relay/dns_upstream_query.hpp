// DnsUpstreamQuery: one device DNS query on its way through the host's
// resolvers, asked one after the other (config.dns_upstreams, failover
// order) until one answers.
//
// Each attempt has a socket of its own, connected to its upstream (the
// kernel picks a fresh source port), and a new random ID (RFC 5452 9.2:
// port and ID are what an off-path forger must guess); an answer counts
// only when it is a response with that ID and the same question. The
// device's own ID is written back into the answer it gets (RFC 1035 7.3:
// the asker matches answers by ID).
//
// Attempts:
//   UDP: send the query, wait for the answer.
//   TCP: connect, send it with its 2-byte length (RFC 1035 4.2.2, RFC 7766
//        8), read the length and the answer, close.
// A device query that came over UDP is asked over UDP, and a truncated
// answer (TC) goes to the device as it is: the device asks again over TCP
// (RFC 7766 5), with the size it gave. One that came over TCP is asked
// over UDP first (no handshake) and, when that answer is truncated, again
// over TCP at the same upstream (dns_tcp_retries), so a TCP asker always
// gets the whole answer.
// An attempt ends early on an upstream error (unreachable, refused, reset,
// a garbled TCP answer: dns_upstream_errors) or after
// config.dns_query_timeout (dns_timeouts); the next upstream is asked
// (dns_failovers). When none is left the device gets SERVFAIL
// (dns_server_failures), so its resolver moves on at once instead of
// waiting out its own timeout. Upstream answers of any RCODE (NXDOMAIN,
// SERVFAIL, REFUSED) are answers and go to the device as they are.
//
// Never blocks: every socket is non-blocking, the loop wakes the query.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "io/event_loop.hpp"
#include "io/socket.hpp"
#include "relay/flow_context.hpp"
#include "wire/dns_message.hpp"

namespace rtether::relay {

class DnsUpstreamQuery final : public io::Handler {
 public:
  // Called once with the answer for the device (its ID restored), an
  // upstream's or a SERVFAIL; the query then holds no socket or timer.
  using Done = std::function<void(wire::MutableBytes answer)>;
  enum class Asker : std::uint8_t { Udp, Tcp };

  // `query` passed parse_dns_query() as `parsed`. `receive_buffer` is the
  // forwarder's scratch for UDP answers (kDnsMaxMessage bytes).
  DnsUpstreamQuery(FlowContext& context, wire::Bytes query, const wire::DnsMessage& parsed,
                   Asker asker, wire::MutableBytes receive_buffer, Done done);
  ~DnsUpstreamQuery() override;
  DnsUpstreamQuery(const DnsUpstreamQuery&) = delete;
  DnsUpstreamQuery& operator=(const DnsUpstreamQuery&) = delete;

  // Asks the first upstream (may finish at once: none configured, all
  // unreachable).
  void start();
  // Ends without an answer, calling nothing (the session is closing).
  void cancel();
  void on_ready(io::Readiness readiness) override;

 private:
  enum class Transport : std::uint8_t { Udp, Tcp };

  void attempt(Transport transport);
  void fail_over();
  void end_attempt();
  void on_timeout();
  void read_udp();
  void write_tcp();
  void read_tcp();
  // An upstream message: the answer when it matches, else counted.
  void on_upstream_message(wire::MutableBytes message);
  void finish(wire::MutableBytes answer);
  void finish_with_server_failure();

  FlowContext& context_;
  std::vector<std::uint8_t> query_;  // the device's query, the attempt's ID in it
  wire::DnsMessage parsed_;
  Asker asker_;
  wire::MutableBytes receive_buffer_;
  Done done_;
  io::Timer timer_;
  io::Fd socket_;
  std::size_t upstream_ = 0;  // index into config.dns_upstreams
  unsigned attempt_ = 0;      // counts attempts, so a loop sees one end
  Transport transport_ = Transport::Udp;
  bool connecting_ = false;
  std::vector<std::uint8_t> tcp_out_;  // the query with its length first
  std::size_t tcp_sent_ = 0;
  std::vector<std::uint8_t> tcp_in_;  // the framed answer so far
  bool finished_ = false;
};

}  // namespace rtether::relay
