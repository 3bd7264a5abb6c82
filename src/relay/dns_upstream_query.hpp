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
// Through the proxy (config.proxy, issue 12): every upstream that is not
// a loopback address is asked through it, since the relay's network may
// let nothing else out. A loopback upstream (127.0.0.53, a local stub, or
// ::1) is the host's own resolver, which a proxy on another host cannot
// reach: it is asked directly, as without a proxy (and it forwards by the
// host's own rules). Through the proxy an attempt is:
//   UDP, SOCKS5: over a UDP ASSOCIATE of its own (Socks5UdpAssociation,
//        RFC 1928 7): the query with the SOCKS5 UDP header naming the
//        upstream, the answer taken only from the upstream's address
//        (dns_proxy_udp). When the proxy gives no association (it refuses
//        the command, closes, or its relay address is unusable) the same
//        upstream is asked over TCP through it instead
//        (dns_proxy_udp_fallbacks), and so are this query's later
//        attempts; so too when it grants none within the attempt's
//        timeout, or the way to its UDP relay answers with an ICMP error
//        (nothing listens there, a firewall rejects it: an error about the
//        proxy's path, not the upstream, whose errors go to the proxy).
//        When it gives one but no answer comes in time (the proxy's host
//        lets no UDP out, a firewall drops the datagrams between relay
//        and proxy, or the proxy drops the replies), the same upstream is
//        asked over TCP through it with a fresh timeout
//        (dns_proxy_udp_timeouts). If that answers, the proxy's UDP is
//        taken to be blocked (dns_proxy_udp_silent, logged when it
//        starts): the forwarder's queries skip it for kProxyUdpRetryAfter
//        (dns_proxy_udp_skipped), so only the first query pays the wait,
//        and then try it again. A dead upstream costs one timeout more
//        than without a proxy before the next one is asked, and the next
//        is asked over TCP only. What was learnt is the session's (each
//        DnsForwarder has its own ProxyUdpHealth).
//   UDP, HTTP proxy: over TCP through a CONNECT tunnel (an HTTP proxy
//        carries no UDP; --proxy-udp is for the device's own UDP flows,
//        DNS never leaves beside the proxy).
//   TCP: through a CONNECT tunnel (SOCKS5 CONNECT or HTTP CONNECT) to the
//        upstream's port, framed as above (dns_proxy_tcp).
// A device query that came over UDP and was answered over TCP gets the
// answer in one datagram when it is at most 512 bytes (RFC 1035 4.2.1,
// what every asker takes), else the answer's header and question with TC
// set, and the device asks again over TCP (which goes through the proxy
// too). Timeouts, failover and SERVFAIL are as above: the attempt's
// timer covers the proxy's handshake, a proxy failure is an upstream
// error (and its proxy_* counter) and fails over to the next upstream.
//
// Never blocks: every socket is non-blocking, the loop wakes the query.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/event_loop.hpp"
#include "io/socket.hpp"
#include "relay/deferred_task.hpp"
#include "relay/flow_context.hpp"
#include "relay/socks5_udp_association.hpp"
#include "wire/dns_message.hpp"
#include "wire/proxy_handshake.hpp"

namespace rtether::relay {

// What the queries of one DnsForwarder learnt of UDP through the proxy
// (see above): while `now < udp_blocked_until`, attempts go over TCP
// through it without trying its UDP ASSOCIATE.
struct ProxyUdpHealth {
  static constexpr std::chrono::minutes kProxyUdpRetryAfter{5};
  std::optional<io::Time> udp_blocked_until;
};

class DnsUpstreamQuery final : public io::Handler {
 public:
  // Called once with the answer for the device (its ID restored), an
  // upstream's or a SERVFAIL; the query then holds no socket or timer.
  using Done = std::function<void(wire::MutableBytes answer)>;
  enum class Asker : std::uint8_t { Udp, Tcp };

  // `query` passed parse_dns_query() as `parsed`. `receive_buffer` is the
  // forwarder's scratch for UDP answers (kDnsMaxMessage bytes); `health`
  // is the forwarder's, shared by its queries. Both outlive the query.
  DnsUpstreamQuery(FlowContext& context, wire::Bytes query, const wire::DnsMessage& parsed,
                   Asker asker, wire::MutableBytes receive_buffer, ProxyUdpHealth& health,
                   Done done);
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
  // The current upstream through config.proxy (see above).
  void frame_tcp_query();
  void attempt_proxy_udp();
  void attempt_proxy_tcp();
  void on_associated(const io::Endpoint& relay);
  void on_association_ended(const std::string& why);
  // No association: the same upstream over TCP through the proxy.
  void fall_back_to_proxy_tcp();
  void advance_tunnel();
  void fail_over();
  void end_attempt();
  void on_timeout();
  void read_udp();
  // A datagram from the proxy's UDP relay: the upstream's answer inside
  // it, or nullopt (counted) when it is malformed or from anyone else.
  std::optional<wire::MutableBytes> unwrap_proxied(wire::MutableBytes datagram);
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
  ProxyUdpHealth& health_;
  Done done_;
  io::Timer timer_;
  io::Fd socket_;
  std::size_t upstream_ = 0;  // index into config.dns_upstreams
  unsigned attempt_ = 0;      // counts attempts, so a loop sees one end
  Transport transport_ = Transport::Udp;
  bool via_proxy_ = false;           // this attempt goes through config.proxy
  bool proxy_without_udp_ = false;   // the proxy gave no UDP association, or no answer over it
  bool proxy_udp_timed_out_ = false; // this upstream's UDP attempt through it went unanswered
  bool connecting_ = false;
  std::unique_ptr<Socks5UdpAssociation> association_;  // a UDP attempt through SOCKS5
  std::unique_ptr<wire::ProxyHandshake> tunnel_;      // a TCP attempt's CONNECT, until done
  // Through the association's own callback, which must not destroy it.
  DeferredTask fall_back_task_;
  // A TCP attempt: the query with its length first; through the
  // association: the query after its SOCKS5 UDP header.
  std::vector<std::uint8_t> tcp_out_;
  std::size_t tcp_sent_ = 0;
  std::vector<std::uint8_t> tcp_in_;  // the framed answer so far
  bool finished_ = false;
};

}  // namespace rtether::relay
