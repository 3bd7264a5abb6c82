// Fuzz target for tcp::Endpoint: a fuzz-chosen device SYN and configuration
// (or an active open, as port forwarding does),
// then a fuzz-driven mix of device segments (near the live sequence numbers,
// so that they reach deep into the state machine), accept(), send_data(),
// host events, window changes and timers. Checks invariants after each step:
// no more data in flight or acknowledged than was ever sent, an allowance
// inside the device window, a bounded control queue, and timers that never
// stay in the past (which would spin the relay's loop).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "tcp/endpoint.hpp"

namespace {

using namespace rtether;
using tcp::Endpoint;

void check(bool condition) {
  if (!condition) std::abort();
}

// More control segments than this from one poll loop means a stuck queue.
constexpr int kMaxControlSegments = 8;

void drain(Endpoint& endpoint, tcp::Time now) {
  int count = 0;
  while (auto segment = endpoint.poll(now)) {
    check(++count <= kMaxControlSegments);
    if (segment->window_scale) check(*segment->window_scale <= 14);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  static const std::vector<std::uint8_t> payload_bytes(4096, 0x5a);

  tcp::Config config;
  config.mss = input.ConsumeIntegralInRange<std::uint16_t>(48, 9000);
  config.receive_buffer = input.ConsumeIntegralInRange<std::uint32_t>(1, 1u << 30);
  config.syn_ack_retries = input.ConsumeIntegralInRange(0, 6);

  tcp::Segment syn;
  syn.seq = tcp::SeqNumber{input.ConsumeIntegral<std::uint32_t>()};
  syn.flags = wire::tcp_flag::kSyn;
  syn.window = input.ConsumeIntegral<std::uint16_t>();
  if (input.ConsumeBool()) syn.options.mss = input.ConsumeIntegral<std::uint16_t>();
  if (input.ConsumeBool()) syn.options.window_scale = input.ConsumeIntegral<std::uint8_t>();
  const tcp::SeqNumber iss{input.ConsumeIntegral<std::uint32_t>()};

  tcp::Time now = tcp::Time{} + std::chrono::hours(1);
  const bool active = input.ConsumeBool();
  Endpoint endpoint =
      active ? Endpoint::active(config, iss, now) : Endpoint::passive(syn, config, iss, now);
  std::uint64_t highest_sent = 0;  // new data bytes ever sent (snd_max - iss - 1)
  std::uint64_t total_acked = 0;

  while (input.remaining_bytes() > 0) {
    switch (input.ConsumeIntegralInRange(0, 10)) {
      case 0: endpoint.on_connected(now); break;
      case 1: endpoint.on_connect_failed(now); break;
      case 2: {
        tcp::Segment segment;
        const bool relative = input.ConsumeBool();
        const auto seq_offset = input.ConsumeIntegralInRange<std::int32_t>(-3000, 3000);
        const auto ack_offset = input.ConsumeIntegralInRange<std::int32_t>(-3000, 3000);
        segment.seq = relative ? endpoint.rcv_nxt() + static_cast<std::uint32_t>(seq_offset)
                               : tcp::SeqNumber{input.ConsumeIntegral<std::uint32_t>()};
        segment.ack = endpoint.snd_una() + static_cast<std::uint32_t>(ack_offset);
        segment.flags = input.ConsumeIntegral<std::uint8_t>();
        segment.window = input.ConsumeIntegral<std::uint16_t>();
        segment.payload =
            wire::Bytes(payload_bytes)
                .first(input.ConsumeIntegralInRange<std::size_t>(0, payload_bytes.size()));
        Endpoint::Input result = endpoint.on_segment(segment, now);
        check(result.data.size() <= segment.payload.size());
        if (!result.data.empty()) {
          check(result.data.data() >= segment.payload.data() &&
                result.data.data() + result.data.size() <=
                    segment.payload.data() + segment.payload.size());
        }
        total_acked += result.acked;
        check(total_acked <= highest_sent);
        if (result.reset) check(endpoint.closed());
        endpoint.accept(input.ConsumeIntegralInRange<std::size_t>(0, result.data.size()), now);
        break;
      }
      case 3: endpoint.set_receive_space(input.ConsumeIntegral<std::uint32_t>()); break;
      case 4: {
        const std::uint32_t limit =
            std::min<std::uint32_t>(endpoint.send_allowance(), endpoint.max_segment());
        if (limit == 0) break;
        const std::uint32_t bytes = input.ConsumeIntegralInRange<std::uint32_t>(1, limit);
        const std::uint64_t end = (endpoint.snd_nxt() - (iss + 1)) + std::uint64_t{bytes};
        tcp::OutSegment out = endpoint.send_data(bytes, now);
        check(out.seq + bytes == endpoint.snd_nxt());
        if (end > highest_sent) highest_sent = end;
        break;
      }
      case 5: endpoint.host_closed(now); break;
      case 6: endpoint.host_reset(now); break;
      case 7: endpoint.abort(now); break;
      case 8: now += std::chrono::milliseconds(input.ConsumeIntegralInRange(0, 100000)); break;
      case 9:
        if (endpoint.deadline() != tcp::Time::max() && endpoint.deadline() > now)
          now = endpoint.deadline();
        break;
      case 10: break;
    }
    // A timer due now must be handled by one on_timer() call.
    if (endpoint.deadline() <= now) {
      endpoint.on_timer(now);
      check(endpoint.deadline() > now);
    }
    drain(endpoint, now);

    check(endpoint.in_flight() + total_acked <= highest_sent);
    check(endpoint.send_allowance() <= endpoint.send_window());
    if (endpoint.closed()) {
      check(endpoint.send_allowance() == 0);
      check(endpoint.deadline() == tcp::Time::max());
    }
  }
  return 0;
}
