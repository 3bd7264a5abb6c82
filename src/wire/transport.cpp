// Length checks for the TCP, UDP and ICMP views and the TCP option walk.
#include "wire/transport.hpp"

namespace rtether::wire {

std::optional<TcpView> TcpView::parse(Bytes data) {
  if (data.size() < kTcpMinHeader) return std::nullopt;
  const std::size_t header_length = TcpView::header_length_of(data.data());
  if (header_length < kTcpMinHeader || header_length > data.size()) return std::nullopt;
  return TcpView(data);
}

TcpOptions TcpView::options() const {
  TcpOptions options;
  const Bytes bytes = options_bytes();
  std::size_t i = 0;
  while (i < bytes.size()) {
    const std::uint8_t kind = load(bytes.data() + i, tcp_option::kKind);
    if (kind == tcp_option::kEnd) break;
    if (kind == tcp_option::kNop) {
      ++i;
      continue;
    }
    if (bytes.size() - i < tcp_option::kValue) break;
    const std::uint8_t* option = bytes.data() + i;
    const std::size_t length = load(option, tcp_option::kLength);
    if (length < tcp_option::kValue || length > bytes.size() - i) break;
    // A known kind with the wrong length is skipped rather than trusted, as
    // Linux does (tcp_parse_options).
    switch (kind) {
      case tcp_option::kMss:
        if (length == tcp_option::kMssLength) options.mss = load(option, tcp_option::kMssValue);
        break;
      case tcp_option::kWindowScale:
        if (length == tcp_option::kWindowScaleLength)
          options.window_scale = load(option, tcp_option::kWindowScaleValue);
        break;
      case tcp_option::kSackPermitted:
        if (length == tcp_option::kSackPermittedLength) options.sack_permitted = true;
        break;
      case tcp_option::kTimestamps:
        if (length == tcp_option::kTimestampsLength) {
          options.timestamp_value = load(option, tcp_option::kTimestampValue);
          options.timestamp_echo = load(option, tcp_option::kTimestampEcho);
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
  const std::size_t length = load(data.data(), udp_field::kLength);
  if (length < kUdpHeader || length > data.size()) return std::nullopt;
  return UdpView(data.first(length));
}

std::optional<IcmpView> IcmpView::parse(Bytes data) {
  if (data.size() < kIcmpHeader) return std::nullopt;
  return IcmpView(data);
}

}  // namespace rtether::wire
