// RelayConfig: limits and sizes of the relay, with why each default was chosen.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "io/outbound.hpp"
#include "io/ping_socket.hpp"
#include "io/socket.hpp"
#include "relay/upstream_proxy.hpp"
#include "tcp/endpoint.hpp"

namespace rtether::relay {

using namespace std::chrono_literals;

// Largest TCP payload the relay sends or accepts: an IPv6 packet with a
// 20-byte TCP header is then exactly 65535 bytes, the framer's limit. The
// device's own MSS (its MTU) usually binds first.
constexpr std::uint16_t kRelayMss = 65535 - 40 - 20;

constexpr std::size_t kTcpFlowBuffer = 1024 * 1024;

inline tcp::Config default_tcp_config() {
  tcp::Config config;
  config.mss = kRelayMss;
  config.receive_buffer = kTcpFlowBuffer;
  // Long enough for a host server on this machine to answer a request, so
  // the response carries the ACK (one packet less each way through the
  // client); far below the device's 200 ms minimum retransmission timeout.
  config.delayed_ack = std::chrono::microseconds(500);
  return config;
}

struct RelayConfig {
  // Bytes queued toward one client. Must hold several maximal (64 KiB)
  // packets so one send() carries many; allocated once per client.
  std::size_t output_capacity = 512 * 1024;
  // Part of the output queue only control segments (ACK, RST, SYN-ACK) may
  // use, so data never crowds them out.
  std::size_t control_reserve = 16 * 1024;
  // Device bytes buffered per TCP flow when its host socket is full; this is
  // also the most the relay advertises as its receive window.
  std::size_t tcp_flow_buffer = kTcpFlowBuffer;
  // Device bytes buffered across all flows of one client.
  std::size_t client_buffer_budget = 64 * 1024 * 1024;
  std::size_t max_flows_per_client = 8192;
  // Reads of the client stream per wake-up before yielding to other clients.
  int client_read_budget = 64;
  std::chrono::seconds udp_idle_timeout = 120s;  // same as Gnirehtet
  // An echo "flow" (device, destination, identifier) ends after this long
  // without a request or reply; ping sends one per second by default.
  std::chrono::seconds icmp_idle_timeout = 60s;
  // Opens the host ICMP echo socket for a destination; empty means
  // io::open_ping_socket. Tests inject a fake here to reach the "forbidden
  // by ping_group_range" path and to drive replies.
  std::function<io::Result<io::PingSocket>(const io::Endpoint&)> open_ping_socket;
  // ICMP errors toward one device are rate-limited (RFC 4443 2.4 (f), RFC
  // 1812 4.3.2.8): one per interval on average, bursts of up to this many.
  // The rest are counted (drop_icmp_error_rate) and not sent.
  std::chrono::microseconds icmp_error_interval{10000};  // 100 per second
  int icmp_error_burst = 10;
  // Keep unacknowledged host data in the socket with a peek offset, where
  // the kernel has one for TCP (probed once per process); false forces the
  // fallback (tests).
  bool use_peek_offset = io::tcp_peek_offset_supported();
  tcp::Config tcp = default_tcp_config();
  // Event loops the relay runs its sessions on (`--threads`): the caller's
  // plus threads - 1 of its own, each on a thread of its own. 1: every
  // session on the caller's loop.
  std::size_t threads = 1;
  // DNS forwarding (relay/dns_forwarder.hpp): the host resolvers asked for
  // queries to 10.0.2.3 / fd00::2:3, in failover order (none: every query
  // is answered SERVFAIL).
  std::vector<io::Endpoint> dns_upstreams;
  // Per upstream: then the next one is asked. Under the device resolver's
  // own wait (glibc: 5 s), so failing over to a second upstream still
  // answers in time.
  std::chrono::milliseconds dns_query_timeout = 2000ms;
  // Queries waiting for an upstream per client; more are dropped (counted).
  std::size_t max_dns_queries_per_client = 256;
  // Devices may reach the host's loopback (relay/address_map.hpp:
  // reaches_host_loopback). Off, such packets are refused: a TCP SYN with a
  // reset, UDP and echo requests with "administratively prohibited"
  // (drop_host_loopback), as pasta's --no-map-gw and slirp4netns'
  // --disable-host-loopback.
  bool host_loopback = true;
  // --secret FILE: when not empty, every client must answer the handshake
  // of wire/secret_handshake.hpp within secret_timeout, or is closed with
  // nothing relayed (secret_refused, secret_timeout). Clients answer at
  // once; the time only bounds a silent or slow one.
  std::vector<std::uint8_t> secret;
  std::chrono::milliseconds secret_timeout{5000};
  // --proxy: every TCP flow to a destination is a tunnel through it
  // (relay/upstream_proxy.hpp; tcp_flow.hpp has how), and device UDP goes
  // through a SOCKS5 proxy's UDP ASSOCIATE or follows proxy_udp. The
  // device's SYN-ACK waits for the proxy's "connected"; any failure is a
  // reset, counted by reason (proxy_*).
  std::optional<UpstreamProxy> proxy;
  ProxyUdp proxy_udp = ProxyUdp::Drop;
  // From the connect to the proxy to its answer for the target: a proxy
  // that accepts but never answers costs the device this long, then a reset.
  std::chrono::milliseconds proxy_timeout = 10000ms;
  // Clients still owing their answer at once, at most: one more is closed
  // as it is accepted (secret_pending_limit), so a flood of silent
  // connections costs at most this many sessions until their deadlines.
  std::size_t max_unanswered_clients = 64;
  // Where host sockets toward destinations leave from (--outbound-address,
  // --outbound-interface): `outbound` for every client, or the entry of a
  // client id in `client_outbound` (`--outbound-address ID=ADDR`), else of
  // the client's adb serial in `serial_outbound` (`SERIAL=ADDR`, run and
  // autorun); the CLI fills each entry in from `outbound` and its own values.
  io::Outbound outbound;
  std::map<std::uint32_t, io::Outbound> client_outbound;
  std::map<std::string, io::Outbound> serial_outbound;
  const io::Outbound& outbound_for(std::uint32_t client_id, const std::string& serial = {}) const {
    if (auto found = client_outbound.find(client_id); found != client_outbound.end())
      return found->second;
    if (serial.empty()) return outbound;
    auto found = serial_outbound.find(serial);
    return found == serial_outbound.end() ? outbound : found->second;
  }
};

}  // namespace rtether::relay
