// Counters: every packet the relay drops, and every limit it hits, has a
// named counter here (per client session; the relay sums them for status).
//
// The table below is the only list: one line per counter, its name and
// what it counts. The struct's fields, the sum and the log summary are all
// generated from it, so a new counter is one line.
#pragma once

#include <cstdint>
#include <string>

namespace rtether::relay {

// X(name, meaning)
#define RTETHER_RELAY_COUNTERS(X)                                                                 \
  /* Device -> relay. */                                                                          \
  X(secret_refused, "client closed: wrong --secret answer, or none before the stream ended")      \
  X(secret_timeout, "client closed: no --secret answer before the deadline")                      \
  X(secret_pending_limit, "client closed at accept: too many still owing a --secret answer")      \
  X(packets_from_device, "IP packets read from the device link")                                  \
  X(bytes_from_device, "bytes of those packets")                                                  \
  X(drop_bad_ip, "IP header failed validation")                                                   \
  X(drop_fragment, "fragments are not reassembled")                                               \
  X(drop_bad_transport, "truncated TCP/UDP/ICMP header")                                          \
  X(drop_unknown_protocol, "neither TCP, UDP nor handled ICMP")                                   \
  X(drop_no_flow, "TCP segment for no flow (answered with RST)")                                  \
  X(drop_flow_limit, "new flow refused: per-client limit")                                        \
  X(drop_host_loopback, "new flow to the host's loopback refused (--no-host-loopback)")            \
  X(window_limited_by_budget, "a TCP window cut by the per-client buffer budget")                 \
  X(drop_udp_send, "host UDP send failed")                                                        \
  X(drop_udp_too_big, "host datagram larger than a device-side packet can carry")                 \
  /* Relay -> device. */                                                                          \
  X(packets_to_device, "IP packets queued toward the client")                                     \
  X(bytes_to_device, "bytes of those packets")                                                    \
  X(drop_output_full, "control segment lost: output queue full")                                  \
  X(drop_device_write, "packet the device refused (direct mode: a tun write error)")              \
  /* Flows. */                                                                                    \
  X(tcp_flows_opened, "device TCP connections accepted")                                          \
  X(tcp_connect_failed, "host connect refused or failed")                                         \
  X(tcp_host_drain_expired, "host never took data the device had sent")                           \
  X(tcp_out_of_order, "device segments held after a hole")                                        \
  X(udp_flows_opened, "device UDP associations opened")                                           \
  X(flows_expired, "flows ended by an idle or retry timeout")                                     \
  /* ICMP (echo through ping sockets, errors toward the device). */                               \
  X(icmp_flows_opened, "device echo identifiers given a ping socket")                             \
  X(drop_icmp_forbidden,                                                                          \
    "ping socket refused (ping_group_range): answered \"administratively prohibited\"")          \
  X(drop_icmp_unsupported, "device ICMP other than an echo request")                              \
  X(drop_icmp_send, "host ping socket send failed")                                               \
  X(drop_icmp_reply, "host ICMP message that is no echo reply")                                   \
  X(icmp_errors_to_device, "unreachable / too big sent to the device")                            \
  X(host_errors_unreported, "host socket error with no ICMP equivalent")                          \
  X(drop_icmp_error_not_unicast,                                                                  \
    "error withheld: the device's packet went to a broadcast/multicast address (RFC 1122 3.2.2)") \
  X(drop_icmp_error_rate, "error withheld by the per-session rate limit")                         \
  X(drop_tcp_not_unicast, "TCP to a broadcast/multicast address (RFC 1122 4.2.3.10): dropped")    \
  /* Port forwarding (host -> device). */                                                         \
  X(forward_tcp_opened, "host connections forwarded to the device")                               \
  X(forward_udp_opened, "host UDP peers forwarded to the device")                                 \
  X(drop_forward_no_client, "forwarded connection/datagram, no device")                           \
  X(drop_forward_no_port, "no free relay-side port for a forward")                                \
  /* DNS forwarding (the relay's resolver, 10.0.2.3 and fd00::2:3). */                            \
  X(dns_queries, "device DNS queries forwarded upstream")                                         \
  X(dns_answers, "upstream answers passed to the device")                                         \
  X(dns_timeouts, "an upstream gave no answer in time")                                           \
  X(dns_failovers, "a query passed on to the next upstream")                                      \
  X(dns_upstream_errors, "upstream unreachable, refused, reset or answering garbage")             \
  X(dns_bad_queries, "malformed DNS query from the device: dropped")                              \
  X(dns_drop_in_flight_limit, "query dropped: per-client limit of queries in flight")             \
  X(dns_server_failures, "no upstream answered: SERVFAIL to the device")                          \
  X(dns_tcp_retries, "truncated UDP answer to a TCP query, asked again over TCP")                 \
  X(dns_drop_answer_lost, "answer lost: output queue full or the TCP asker gone")                 \
  X(dns_drop_tcp_connection_limit, "DNS TCP connection refused: per-client limit")                \
  X(dns_proxy_udp, "upstream DNS attempts through the SOCKS5 proxy's UDP ASSOCIATE")              \
  X(dns_proxy_tcp, "upstream DNS attempts over TCP through the proxy (CONNECT)")                  \
  X(dns_proxy_udp_fallbacks, "no UDP ASSOCIATE from the proxy: DNS asked over TCP through it")    \
  X(dns_proxy_udp_timeouts, "UDP via the proxy unanswered: same upstream asked over TCP via it")  \
  X(dns_proxy_udp_silent, "proxy's UDP found blocked (TCP answered): skipped for 5 minutes")      \
  X(dns_proxy_udp_skipped, "DNS attempt over TCP via the proxy: its UDP found blocked lately")     \
  X(dns_truncated_for_udp, "a TCP answer over 512 bytes to a UDP asker: sent truncated (TC)")     \
  /* Upstream proxy (--proxy): every failure resets the device's connection. */                   \
  X(proxy_tunnels, "TCP flows connected through the proxy")                                       \
  X(proxy_connect_failed, "the proxy unreachable, or it closed or reset in the handshake")        \
  X(proxy_timeouts, "the proxy gave no answer within proxy_timeout")                              \
  X(proxy_bad_replies, "the proxy's answer was not SOCKS5 / HTTP, or too long")                   \
  X(proxy_auth_failed, "the proxy wants credentials or refused ours")                             \
  X(proxy_not_allowed, "the proxy's rules forbid the target (SOCKS5 02, HTTP 403)")               \
  X(proxy_target_refused, "the target refused or was unreachable from the proxy")                 \
  X(proxy_failed, "the proxy reported another failure, or cannot do what was asked")              \
  X(proxy_udp_dropped, "device UDP refused: the proxy carries none (--proxy-udp drop)")           \
  X(proxy_udp_associations, "device UDP flows given a SOCKS5 UDP ASSOCIATE")                      \
  X(proxy_udp_early_drops, "device datagram dropped: too many before UDP ASSOCIATE answered")     \
  X(proxy_udp_bad_datagrams, "datagram from the proxy malformed, or not from the flow's peer")

struct Counters {
#define RTETHER_COUNTER_FIELD(name, meaning) std::uint64_t name = 0;
  RTETHER_RELAY_COUNTERS(RTETHER_COUNTER_FIELD)
#undef RTETHER_COUNTER_FIELD

  Counters& operator+=(const Counters& other);
  std::string summary() const;  // "name=value ..." for non-zero counters

  // visit(name, meaning, value) for every counter, in table order.
  template <typename Visit>
  void for_each(Visit&& visit) const {
#define RTETHER_COUNTER_VISIT(name, meaning) visit(#name, meaning, name);
    RTETHER_RELAY_COUNTERS(RTETHER_COUNTER_VISIT)
#undef RTETHER_COUNTER_VISIT
  }
};

}  // namespace rtether::relay
