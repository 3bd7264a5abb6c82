// Fuzz target: ICMP errors built for arbitrary offending packets. Whatever the
// input, the error must parse back as one IP packet of at most the RFC size
// limit, its ICMP checksum must verify, the quote must be the input's first
// bytes, and the kind must classify back to itself. Also runs the
// may_answer_with_error rule and classify_icmp_error on the raw input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "wire/checksum.hpp"
#include "wire/icmp_error.hpp"
#include "wire/ip_packet.hpp"
#include "wire/transport.hpp"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace wire = rtether::wire;
  if (size < 6) return 0;
  // First bytes: kind, MTU (4 bytes), then the offending packet.
  const auto kind = static_cast<wire::IcmpErrorKind>(data[0] % 5);
  const std::uint32_t mtu = wire::load_be32(data + 1);
  const wire::Bytes offending(data + 5, size - 5);
  (void)wire::classify_icmp_error(data[1] & 1 ? wire::IpVersion::V6 : wire::IpVersion::V4,
                                  data[2], data[3], mtu);

  const auto parsed = wire::parse_ip(offending);
  if (!parsed.packet) return 0;
  (void)wire::may_answer_with_error(*parsed.packet, kind);

  wire::IcmpErrorHeader header;
  header.source = parsed.packet->destination;
  header.destination = parsed.packet->source;
  header.kind = kind;
  header.mtu = mtu;
  std::vector<std::uint8_t> out(1400);
  const std::size_t length = wire::build_icmp_error(out, header, offending);
  require(length == wire::icmp_error_size(header.source.version, offending.size()));
  require(length <= (header.source.version == wire::IpVersion::V4 ? wire::kIcmpV4ErrorMax
                                                                  : wire::kIcmpV6ErrorMax));
  const auto error = wire::parse_ip(wire::Bytes(out.data(), length));
  require(error.packet.has_value());
  require(!error.packet->fragment);
  const auto icmp = wire::IcmpView::parse(error.packet->payload);
  require(icmp.has_value());
  const auto quote = icmp->payload();
  require(std::memcmp(quote.data(), offending.data(), quote.size()) == 0);
  if (header.source.version == wire::IpVersion::V4)
    require(wire::internet_checksum(icmp->bytes()) == 0);
  const auto summary = wire::classify_icmp_error(header.source.version, icmp->type(), icmp->code(),
                                                 wire::load_be32(icmp->bytes().data() + 4));
  require(summary.has_value() && summary->kind == kind);
  return 0;
}
