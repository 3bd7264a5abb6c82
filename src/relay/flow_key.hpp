// FlowKey: the 5-tuple (plus IP version) that names a flow, as seen from the
// device: source = the device's address and port. Hashable for FlowTable.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>

#include "wire/ip_address.hpp"

namespace rtether::relay {

struct FlowKey {
  wire::IpAddress source;       // device side
  wire::IpAddress destination;  // as the device addressed it (before mapping)
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::uint8_t protocol = 0;

  friend bool operator==(const FlowKey&, const FlowKey&) = default;
  std::string to_string() const;
};

// The addresses and ports of a packet toward the device on the flow of
// `key`: the key reversed. For wire::TcpSegmentHeader and
// wire::UdpDatagramHeader; the rest of the header is the caller's.
template <typename Header>
Header header_toward_device(const FlowKey& key) {
  Header header;
  header.source = key.destination;
  header.destination = key.source;
  header.source_port = key.destination_port;
  header.destination_port = key.source_port;
  return header;
}

// A multi-queue tun (direct mode with --threads: device/tun_steering.hpp)
// has one queue per relay thread, each a session of its own, and the
// device's kernel hands each packet to the queue its steering program
// picks: the XOR of the TCP or UDP ports (the ICMP echo identifier, which
// FlowKey keeps as source_port, with destination_port 0), mixed (the high
// half of its product with 0x9e37, so that every bit counts: Linux gives
// connect() even ports only, so the low bit alone would put all of them on
// one queue of two), modulo the number of queues. XOR is symmetric, so a
// packet of either direction, or one quoted in an ICMP error, maps alike.
// A session
// serves the flows of its own queue only, and picks the ports of a flow it
// opens itself (port forwarding) so that the device's answers come back
// to it.
struct QueueSlot {
  std::uint16_t index = 0;
  std::uint16_t count = 1;

  static constexpr std::uint32_t kMix = 0x9e37;
  static std::uint16_t steering_value(const FlowKey& key) {
    const std::uint32_t ports = key.source_port ^ key.destination_port;
    return static_cast<std::uint16_t>((ports * kMix) >> 16);
  }
  bool owns(const FlowKey& key) const { return steering_value(key) % count == index; }
};

struct FlowKeyHash {
  std::size_t operator()(const FlowKey& key) const noexcept {
    // FNV-1a over the fields that vary; addresses are 16 bytes each.
    std::uint64_t hash = 1469598103934665603ull;
    auto mix = [&hash](const std::uint8_t* bytes, std::size_t size) {
      for (std::size_t i = 0; i < size; ++i) hash = (hash ^ bytes[i]) * 1099511628211ull;
    };
    mix(key.source.bytes.data(), key.source.size());
    mix(key.destination.bytes.data(), key.destination.size());
    std::uint8_t rest[5] = {static_cast<std::uint8_t>(key.source_port >> 8),
                            static_cast<std::uint8_t>(key.source_port),
                            static_cast<std::uint8_t>(key.destination_port >> 8),
                            static_cast<std::uint8_t>(key.destination_port), key.protocol};
    mix(rest, sizeof rest);
    return static_cast<std::size_t>(hash);
  }
};

}  // namespace rtether::relay
