// ClientSession, ICMP part: echo requests to IcmpFlows (or, where ping
// sockets are forbidden, "administratively prohibited" at once) and ICMP
// errors toward the device. See client_session.hpp and icmp_flow.hpp.
#include <algorithm>

#include "io/log.hpp"
#include "relay/client_session.hpp"
#include "relay/error_quote.hpp"
#include "relay/icmp_flow.hpp"
#include "wire/transport.hpp"

namespace rtether::relay {

namespace {
// Said once per process: every ping would repeat it.
bool ping_forbidden_logged = false;
}  // namespace

void ClientSession::handle_icmp(const wire::IpPacket& packet) {
  auto icmp = wire::IcmpView::parse(packet.payload);
  if (!icmp) {
    ++counters_.drop_bad_transport;
    return;
  }
  const std::uint8_t request = packet.version == wire::IpVersion::V4
                                   ? wire::icmp_type::kEchoRequest
                                   : wire::icmp_type::kV6EchoRequest;
  // Echo replies, errors about relay packets, neighbour discovery, ...: the
  // relay has no use for them.
  if (icmp->type() != request || icmp->code() != 0) {
    ++counters_.drop_icmp_unsupported;
    return;
  }
  FlowKey key{packet.source, packet.destination, icmp->echo_identifier(), 0, packet.protocol};
  auto found = flows_.find(key);
  if (found == flows_.end()) {
    if (live_flow_count() >= config_.max_flows_per_client) {
      ++counters_.drop_flow_limit;
      return;
    }
    auto flow = std::make_unique<IcmpFlow>(*this, key);
    if (auto error = flow->open()) return refuse_icmp_echo(packet, error);
    ++counters_.icmp_flows_opened;
    found = flows_.emplace(key, std::move(flow)).first;
  }
  found->second->on_device_packet(packet);
}

void ClientSession::refuse_icmp_echo(const wire::IpPacket& packet, const std::error_code& error) {
  auto kind = icmp_error_for(error);
  // Permission denied is ping_group_range (io::open_ping_socket).
  if (error == std::errc::permission_denied) {
    ++counters_.drop_icmp_forbidden;
    if (!ping_forbidden_logged) {
      ping_forbidden_logged = true;
      log::warn("ping from devices is answered with \"administratively prohibited\": this host "
                "forbids unprivileged ICMP sockets; allow the relay's group with "
                "sysctl net.ipv4.ping_group_range");
    }
  } else {
    ++counters_.drop_icmp_send;
    log::debug("client {}: no ping socket to {}: {}", id_, packet.destination.to_string(),
               error.message());
  }
  if (!kind) return;
  if (!wire::may_report_error_for(packet.destination, *kind)) {
    ++counters_.drop_icmp_error_not_unicast;  // ping to a broadcast address
    return;
  }
  if (!wire::may_answer_with_error(packet, *kind)) return;
  send_icmp_error(*kind, 0, packet.destination, packet.source, packet.packet);
}

bool ClientSession::take_icmp_error_slot() {
  const io::Time now = this->now();
  const auto interval = config_.icmp_error_interval;
  if (icmp_error_due_ < now) icmp_error_due_ = now;
  if (icmp_error_due_ - now > interval * std::max(config_.icmp_error_burst - 1, 0)) return false;
  icmp_error_due_ += interval;
  return true;
}

bool ClientSession::send_icmp_error(wire::IcmpErrorKind kind, std::uint32_t mtu,
                                    const wire::IpAddress& from, const wire::IpAddress& to,
                                    wire::Bytes quote) {
  if (from.version != to.version) return false;
  // `from` is where the device's packet went: never an error about a packet
  // to a broadcast or multicast address (RFC 1122 3.2.2, RFC 4443 2.4 (e.3)).
  if (!wire::may_report_error_for(from, kind)) {
    ++counters_.drop_icmp_error_not_unicast;
    return false;
  }
  if (!take_icmp_error_slot()) {
    ++counters_.drop_icmp_error_rate;
    return false;
  }
  auto room = reserve(wire::icmp_error_size(from.version, quote.size()), true);
  if (room.empty()) return false;  // counted by reserve()
  wire::IcmpErrorHeader header;
  header.source = from;
  header.destination = to;
  header.kind = kind;
  header.mtu = mtu;
  std::size_t length = wire::build_icmp_error(room, header, quote);
  if (length == 0) return false;
  ++counters_.icmp_errors_to_device;
  commit(length);
  return true;
}

}  // namespace rtether::relay
