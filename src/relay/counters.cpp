// Counters arithmetic and the one-line summary used in logs.
#include "relay/counters.hpp"

#include <fmt/core.h>

namespace rtether::relay {

namespace {
template <typename Visit>
void for_each_counter(Counters& counters, Visit visit) {
  visit("packets_from_device", counters.packets_from_device);
  visit("bytes_from_device", counters.bytes_from_device);
  visit("drop_bad_ip", counters.drop_bad_ip);
  visit("drop_fragment", counters.drop_fragment);
  visit("drop_bad_transport", counters.drop_bad_transport);
  visit("drop_unknown_protocol", counters.drop_unknown_protocol);
  visit("drop_no_flow", counters.drop_no_flow);
  visit("drop_flow_limit", counters.drop_flow_limit);
  visit("window_limited_by_budget", counters.window_limited_by_budget);
  visit("drop_udp_send", counters.drop_udp_send);
  visit("drop_udp_too_big", counters.drop_udp_too_big);
  visit("packets_to_device", counters.packets_to_device);
  visit("bytes_to_device", counters.bytes_to_device);
  visit("drop_output_full", counters.drop_output_full);
  visit("tcp_flows_opened", counters.tcp_flows_opened);
  visit("tcp_connect_failed", counters.tcp_connect_failed);
  visit("tcp_host_drain_expired", counters.tcp_host_drain_expired);
  visit("tcp_out_of_order", counters.tcp_out_of_order);
  visit("udp_flows_opened", counters.udp_flows_opened);
  visit("flows_expired", counters.flows_expired);
  visit("icmp_flows_opened", counters.icmp_flows_opened);
  visit("drop_icmp_forbidden", counters.drop_icmp_forbidden);
  visit("drop_icmp_unsupported", counters.drop_icmp_unsupported);
  visit("drop_icmp_send", counters.drop_icmp_send);
  visit("drop_icmp_reply", counters.drop_icmp_reply);
  visit("icmp_errors_to_device", counters.icmp_errors_to_device);
  visit("host_errors_unreported", counters.host_errors_unreported);
  visit("drop_icmp_error_not_unicast", counters.drop_icmp_error_not_unicast);
  visit("drop_icmp_error_rate", counters.drop_icmp_error_rate);
  visit("drop_tcp_not_unicast", counters.drop_tcp_not_unicast);
  visit("forward_tcp_opened", counters.forward_tcp_opened);
  visit("forward_udp_opened", counters.forward_udp_opened);
  visit("drop_forward_no_client", counters.drop_forward_no_client);
  visit("drop_forward_no_port", counters.drop_forward_no_port);
}
}  // namespace

Counters& Counters::operator+=(const Counters& other) {
  Counters copy = other;
  std::uint64_t values[64];
  int index = 0;
  for_each_counter(copy, [&](const char*, std::uint64_t& value) { values[index++] = value; });
  index = 0;
  for_each_counter(*this, [&](const char*, std::uint64_t& value) { value += values[index++]; });
  return *this;
}

std::string Counters::summary() const {
  Counters copy = *this;
  std::string text;
  for_each_counter(copy, [&](const char* name, std::uint64_t& value) {
    if (value == 0) return;
    if (!text.empty()) text += ' ';
    text += fmt::format("{}={}", name, value);
  });
  return text.empty() ? "no traffic" : text;
}

}  // namespace rtether::relay
