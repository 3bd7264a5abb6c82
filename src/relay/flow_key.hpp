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
