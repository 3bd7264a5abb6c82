// Host socket errors to ICMP errors toward the device; see error_quote.hpp.
#include "relay/error_quote.hpp"

#include "io/log.hpp"
#include "relay/flow_context.hpp"
#include "relay/icmp_error_sender.hpp"

namespace rtether::relay {

namespace {
// Entries drained per call: the queue is bounded by the socket buffer, this
// bounds the work per event.
constexpr int kMaxErrorsPerCall = 64;

// device_path_mtu() for the host socket `fd` (unchanged when its family is
// unknown).
std::uint32_t device_mtu(std::uint32_t host_mtu, int fd, wire::IpVersion device) {
  const auto host = io::socket_version(fd);
  return host ? device_path_mtu(host_mtu, *host, device) : host_mtu;
}
}  // namespace

std::optional<wire::IcmpErrorKind> icmp_error_for(const std::error_code& error) {
  using std::errc;
  if (error == errc::connection_refused) return wire::IcmpErrorKind::PortUnreachable;
  if (error == errc::host_unreachable || io::is_host_down(error))
    return wire::IcmpErrorKind::HostUnreachable;
  if (error == errc::network_unreachable || error == errc::network_down)
    return wire::IcmpErrorKind::NetUnreachable;
  if (error == errc::permission_denied || error == errc::operation_not_permitted)
    return wire::IcmpErrorKind::AdminProhibited;
  if (error == errc::message_size) return wire::IcmpErrorKind::PacketTooBig;
  return std::nullopt;
}

std::uint32_t device_path_mtu(std::uint32_t host_mtu, wire::IpVersion host,
                              wire::IpVersion device) {
  constexpr std::uint32_t kHeaderDifference = wire::kIpv6Header - wire::kIpv4MinHeader;
  if (host == device || host_mtu == 0) return host_mtu;
  if (host == wire::IpVersion::V6)
    return host_mtu > kHeaderDifference ? host_mtu - kHeaderDifference : 0;
  return host_mtu + kHeaderDifference;
}

int report_host_errors(FlowContext& context, int fd, const FlowKey& key, const ErrorQuote& quote) {
  auto& counters = context.counters();
  int reported = 0;
  for (int count = 0; count < kMaxErrorsPerCall; ++count) {
    auto error = io::read_error_queue(fd);
    if (!error) break;
    std::optional<wire::IcmpErrorSummary> summary;
    if (error->from_icmp) {
      summary = wire::classify_icmp_error(
          error->icmp_v6 ? wire::IpVersion::V6 : wire::IpVersion::V4, error->type, error->code,
          error->info);
    } else if (auto kind = icmp_error_for(error->error)) {
      summary = wire::IcmpErrorSummary{*kind, error->info};
    }
    if (!summary || quote.empty()) {
      ++counters.host_errors_unreported;
      continue;
    }
    log::debug("{}: host reports {}", key.to_string(), wire::to_string(summary->kind));
    const std::uint32_t mtu = summary->kind == wire::IcmpErrorKind::PacketTooBig
                                  ? device_mtu(summary->mtu, fd, key.source.version)
                                  : 0;
    context.icmp_errors().send(summary->kind, mtu, key.destination, key.source, quote.bytes());
    ++reported;
  }
  return reported;
}

void report_send_failure(FlowContext& context, int fd, const FlowKey& key,
                         const ErrorQuote& quote, const std::error_code& error) {
  if (report_host_errors(context, fd, key, quote) > 0 || quote.empty()) return;
  auto kind = icmp_error_for(error);
  if (!kind) {
    ++context.counters().host_errors_unreported;
    return;
  }
  const std::uint32_t mtu =
      *kind == wire::IcmpErrorKind::PacketTooBig ? device_mtu(io::path_mtu(fd), fd, key.source.version)
                                                 : 0;
  context.icmp_errors().send(*kind, mtu, key.destination, key.source, quote.bytes());
}

}  // namespace rtether::relay
