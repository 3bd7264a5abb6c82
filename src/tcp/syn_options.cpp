// tcp::SynOptions and negotiate() (see syn_options.hpp).
#include "tcp/syn_options.hpp"

#include <algorithm>

namespace rtether::tcp {
namespace {

constexpr std::uint16_t kMinSendMss = 48;  // Linux TCP_MIN_SND_MSS: tiny MSS abuse (CVE-2019-11479)
constexpr std::uint8_t kMaxWindowShift = 14;      // RFC 7323 2.3
constexpr std::uint32_t kMaxWindowField = 65535;  // 16-bit window field, RFC 9293 3.1

// RFC 7323 2.3: the smallest shift that lets the whole buffer be advertised.
std::uint8_t window_shift_for(std::uint32_t buffer) {
  std::uint8_t shift = 0;
  while (shift < kMaxWindowShift && (std::uint64_t{kMaxWindowField} << shift) < buffer) ++shift;
  return shift;
}

}  // namespace

SynOptions SynOptions::offer(std::uint16_t mss, std::uint32_t receive_buffer) {
  return SynOptions{mss, window_shift_for(receive_buffer)};
}

SynOptions SynOptions::answer(std::uint16_t mss, std::uint32_t receive_buffer,
                              const wire::TcpOptions& device) {
  SynOptions options = offer(mss, receive_buffer);
  if (!device.window_scale) options.window_scale.reset();
  return options;
}

NegotiatedOptions negotiate(const SynOptions& ours, const wire::TcpOptions& device) {
  NegotiatedOptions negotiated;
  // RFC 9293 3.7.1: segments we send fit the MSS the device announced.
  negotiated.send_mss =
      std::max(kMinSendMss, std::min(ours.mss, device.mss.value_or(kDefaultMss)));
  if (ours.window_scale && device.window_scale) {
    negotiated.send_shift = std::min(*device.window_scale, kMaxWindowShift);  // RFC 7323 2.3
    negotiated.receive_shift = *ours.window_scale;
  }
  return negotiated;
}

}  // namespace rtether::tcp
