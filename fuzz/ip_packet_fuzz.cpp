// Fuzz target: parse_ip, the transport views and the TCP option walk on
// arbitrary bytes. Every span handed out must lie inside the input and agree
// with the length fields it came from; ASan catches any read past them. The
// fragment data must agree with the header bytes, and the addresses must
// survive a round trip through their text form. partial_checksum_of (what
// direct mode's link reads off each packet it sends) must stay inside the
// input too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "wire/ip_packet.hpp"
#include "wire/packet_builder.hpp"
#include "wire/transport.hpp"

namespace {

using rtether::wire::Bytes;

void require(bool condition) {
  if (!condition) std::abort();
}

bool inside(Bytes inner, Bytes outer) {
  return inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size();
}

// Touches every byte so that ASan sees any span reaching past the input.
std::uint32_t touch(Bytes bytes) {
  std::uint32_t sum = 0;
  for (auto b : bytes) sum += b;
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace wire = rtether::wire;
  const Bytes input(data, size);
  if (const auto partial = wire::partial_checksum_of(input)) {
    require(partial->start + partial->field + sizeof(std::uint16_t) <= size);
  }
  const auto result = wire::parse_ip(input);
  require(result.packet.has_value() == (result.error == wire::IpError::None));
  if (!result.packet) return 0;

  const wire::IpPacket& packet = *result.packet;
  require(inside(packet.packet, input));
  require(packet.packet.data() == input.data());
  require(packet.header.data() == packet.packet.data());
  require(packet.header.size() + packet.payload.size() == packet.packet.size());
  require(packet.payload.data() == packet.packet.data() + packet.header.size());
  const auto length = wire::ip_packet_length(input);
  require(length.error == wire::IpError::None && length.length == packet.packet.size());
  if (packet.version == wire::IpVersion::V4) {
    require(packet.header.size() >= wire::kIpv4MinHeader);
  } else {
    require(packet.header.size() >= wire::kIpv6Header);
  }
  touch(packet.packet);
  if (packet.fragment) {
    require(packet.fragment->offset % 8 == 0);
    if (packet.version == wire::IpVersion::V4) {
      const std::uint16_t flags_offset = wire::load(data, wire::ipv4_field::kFlagsFragmentOffset);
      require(packet.fragment->more_fragments ==
              ((flags_offset & wire::ipv4_field::kMoreFragments) != 0));
      require(packet.fragment->offset ==
              (flags_offset & wire::ipv4_field::kFragmentOffsetMask) * 8u);
    }
  }
  for (const wire::IpAddress& address : {packet.source, packet.destination}) {
    wire::IpAddress parsed;
    require(wire::IpAddress::parse(address.to_string(), parsed) && parsed == address);
  }

  const Bytes payload = packet.payload;
  if (const auto tcp = wire::TcpView::parse(payload)) {
    require(tcp->header_length() >= wire::kTcpMinHeader && tcp->header_length() <= payload.size());
    require(inside(tcp->options_bytes(), payload) && inside(tcp->payload(), payload));
    const auto options = tcp->options();
    require(options.timestamp_value.has_value() == options.timestamp_echo.has_value());
    touch(tcp->options_bytes());
    touch(tcp->payload());
  }
  if (const auto udp = wire::UdpView::parse(payload)) {
    require(udp->length() >= wire::kUdpHeader && udp->length() <= payload.size());
    require(inside(udp->payload(), payload));
    touch(udp->payload());
  }
  if (const auto icmp = wire::IcmpView::parse(payload)) {
    require(inside(icmp->payload(), payload) && inside(icmp->bytes(), payload));
    touch(icmp->bytes());
  }
  return 0;
}
