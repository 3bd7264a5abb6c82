// Counters: every packet the relay drops, and every limit it hits, has a
// named counter here (per client session; the relay sums them for status).
#pragma once

#include <cstdint>
#include <string>

namespace rtether::relay {

struct Counters {
  // Device -> relay.
  std::uint64_t packets_from_device = 0;
  std::uint64_t bytes_from_device = 0;
  std::uint64_t drop_bad_ip = 0;            // IP header failed validation
  std::uint64_t drop_fragment = 0;          // fragments are not reassembled
  std::uint64_t drop_bad_transport = 0;     // truncated TCP/UDP header
  std::uint64_t drop_unknown_protocol = 0;  // neither TCP, UDP nor handled ICMP
  std::uint64_t drop_no_flow = 0;           // TCP segment for no flow (answered with RST)
  std::uint64_t drop_flow_limit = 0;        // new flow refused: per-client limit
  std::uint64_t window_limited_by_budget = 0;  // a TCP window cut by the per-client buffer budget
  std::uint64_t drop_udp_send = 0;          // host UDP send failed
  std::uint64_t drop_udp_too_big = 0;       // host datagram larger than a device-side packet
                                            // can carry (an IPv6 peer's, toward IPv4)
  // Relay -> device.
  std::uint64_t packets_to_device = 0;
  std::uint64_t bytes_to_device = 0;
  std::uint64_t drop_output_full = 0;       // control segment lost: output queue full
  // Flows.
  std::uint64_t tcp_flows_opened = 0;
  std::uint64_t tcp_connect_failed = 0;
  std::uint64_t tcp_host_drain_expired = 0;  // host never took data the device had sent
  std::uint64_t tcp_out_of_order = 0;       // device segments held after a hole
  std::uint64_t udp_flows_opened = 0;
  std::uint64_t flows_expired = 0;
  // ICMP (echo through ping sockets, errors toward the device).
  std::uint64_t icmp_flows_opened = 0;
  std::uint64_t drop_icmp_forbidden = 0;    // ping socket refused (ping_group_range): answered
                                            // with "administratively prohibited"
  std::uint64_t drop_icmp_unsupported = 0;  // device ICMP other than an echo request
  std::uint64_t drop_icmp_send = 0;         // host ping socket send failed
  std::uint64_t drop_icmp_reply = 0;        // host ICMP message that is no echo reply
  std::uint64_t icmp_errors_to_device = 0;  // unreachable / too big sent to the device
  std::uint64_t host_errors_unreported = 0; // host socket error with no ICMP equivalent
  std::uint64_t drop_icmp_error_not_unicast = 0;  // error withheld: the device's packet went to
                                                  // a broadcast/multicast address (RFC 1122 3.2.2)
  std::uint64_t drop_icmp_error_rate = 0;   // error withheld by the per-session rate limit
  std::uint64_t drop_tcp_not_unicast = 0;   // TCP to a broadcast/multicast address (RFC 1122
                                            // 4.2.3.10): dropped silently
  // Port forwarding (host -> device).
  std::uint64_t forward_tcp_opened = 0;
  std::uint64_t forward_udp_opened = 0;
  std::uint64_t drop_forward_no_client = 0;  // forwarded connection/datagram, no device
  std::uint64_t drop_forward_no_port = 0;    // no free relay-side port for a forward

  Counters& operator+=(const Counters& other);
  std::string summary() const;  // "name=value ..." for non-zero counters
};

}  // namespace rtether::relay
