// Length checks for the TCP, UDP and ICMP views and the TCP option walk.
#include "wire/transport.hpp"

namespace rtether::wire {
namespace {

constexpr std::size_t kTcpDataOffset = 12;  // RFC 9293 section 3.1, high nibble, in 32-bit words
constexpr std::size_t kUdpLength = 4;       // RFC 768, header + data in bytes

// TCP option kinds and their fixed lengths in bytes (kind and length bytes
// included): RFC 9293 section 3.2, RFC 7323 sections 2.2 and 3.2, RFC 2018
// section 2.
namespace tcp_option {
constexpr std::uint8_t kEnd = 0;
constexpr std::uint8_t kNop = 1;
constexpr std::uint8_t kMss = 2;
constexpr std::uint8_t kWindowScale = 3;
constexpr std::uint8_t kSackPermitted = 4;
constexpr std::uint8_t kTimestamps = 8;
constexpr std::size_t kMssLength = 4;
constexpr std::size_t kWindowScaleLength = 3;
constexpr std::size_t kSackPermittedLength = 2;
constexpr std::size_t kTimestampsLength = 10;
constexpr std::size_t kMinLength = 2;  // kind + length
}  // namespace tcp_option

}  // namespace

std::optional<TcpView> TcpView::parse(Bytes data) {
  if (data.size() < kTcpMinHeader) return std::nullopt;
  const std::size_t header_length = (data[kTcpDataOffset] >> 4) * 4u;
  if (header_length < kTcpMinHeader || header_length > data.size()) return std::nullopt;
  return TcpView(data);
}

TcpOptions TcpView::options() const {
  TcpOptions options;
  const Bytes bytes = options_bytes();
  std::size_t i = 0;
  while (i < bytes.size()) {
    const std::uint8_t kind = bytes[i];
    if (kind == tcp_option::kEnd) break;
    if (kind == tcp_option::kNop) {
      ++i;
      continue;
    }
    if (bytes.size() - i < tcp_option::kMinLength) break;
    const std::size_t length = bytes[i + 1];
    if (length < tcp_option::kMinLength || length > bytes.size() - i) break;
    const std::uint8_t* value = bytes.data() + i + tcp_option::kMinLength;
    // A known kind with the wrong length is skipped rather than trusted, as
    // Linux does (tcp_parse_options).
    switch (kind) {
      case tcp_option::kMss:
        if (length == tcp_option::kMssLength) options.mss = load_be16(value);
        break;
      case tcp_option::kWindowScale:
        if (length == tcp_option::kWindowScaleLength) options.window_scale = value[0];
        break;
      case tcp_option::kSackPermitted:
        if (length == tcp_option::kSackPermittedLength) options.sack_permitted = true;
        break;
      case tcp_option::kTimestamps:
        if (length == tcp_option::kTimestampsLength) {
          options.timestamp_value = load_be32(value);
          options.timestamp_echo = load_be32(value + 4);
        }
        break;
      default:
        break;
    }
    i += length;
  }
  return options;
}

std::optional<UdpView> UdpView::parse(Bytes data) {
  if (data.size() < kUdpHeader) return std::nullopt;
  const std::size_t length = load_be16(data.data() + kUdpLength);
  if (length < kUdpHeader || length > data.size()) return std::nullopt;
  return UdpView(data.first(length));
}

std::optional<IcmpView> IcmpView::parse(Bytes data) {
  if (data.size() < kIcmpHeader) return std::nullopt;
  return IcmpView(data);
}

}  // namespace rtether::wire
