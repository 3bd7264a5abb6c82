// IcmpErrorSender: see icmp_error_sender.hpp.
#include "relay/icmp_error_sender.hpp"

#include <algorithm>

#include "relay/flow_context.hpp"
#include "wire/icmp_error.hpp"

namespace rtether::relay {

bool IcmpErrorSender::take_slot() {
  const io::Time now = context_.now();
  const auto& config = context_.config();
  const auto interval = config.icmp_error_interval;
  if (due_ < now) due_ = now;
  if (due_ - now > interval * std::max(config.icmp_error_burst - 1, 0)) return false;
  due_ += interval;
  return true;
}

bool IcmpErrorSender::send(wire::IcmpErrorKind kind, std::uint32_t mtu,
                           const wire::IpAddress& from, const wire::IpAddress& to,
                           wire::Bytes quote) {
  if (from.version != to.version) return false;
  auto& counters = context_.counters();
  if (!wire::may_report_error_for(from, kind)) {
    ++counters.drop_icmp_error_not_unicast;
    return false;
  }
  if (!take_slot()) {
    ++counters.drop_icmp_error_rate;
    return false;
  }
  auto room = context_.reserve(wire::icmp_error_size(from.version, quote.size()), true);
  if (room.empty()) return false;  // counted by reserve()
  wire::IcmpErrorHeader header;
  header.source = from;
  header.destination = to;
  header.kind = kind;
  header.mtu = mtu;
  std::size_t length = wire::build_icmp_error(room, header, quote);
  if (length == 0) return false;
  ++counters.icmp_errors_to_device;
  context_.commit(length);
  return true;
}

void IcmpErrorSender::answer(const wire::IpPacket& packet, wire::IcmpErrorKind kind) {
  if (!wire::may_report_error_for(packet.destination, kind)) {
    // e.g. permission denied for 255.255.255.255, a ping to a broadcast address
    ++context_.counters().drop_icmp_error_not_unicast;
    return;
  }
  if (!wire::may_answer_with_error(packet, kind)) return;
  send(kind, 0, packet.destination, packet.source, packet.packet);
}

}  // namespace rtether::relay
