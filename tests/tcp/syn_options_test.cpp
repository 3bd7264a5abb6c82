// tcp::SynOptions and negotiate(): what our SYN and SYN-ACK carry, the send
// MSS (RFC 9293 3.7.1) and window scaling (RFC 7323 2), the same for the
// passive open (answer) and the active open (offer).
#include <gtest/gtest.h>

#include "tcp/syn_options.hpp"

namespace rtether::tcp {
namespace {

wire::TcpOptions device(std::optional<std::uint16_t> mss, std::optional<std::uint8_t> scale) {
  wire::TcpOptions options;
  options.mss = mss;
  options.window_scale = scale;
  return options;
}

TEST(TcpSynOptions, OfferCarriesOurMssAndTheSmallestShiftForTheBuffer) {
  EXPECT_EQ(SynOptions::offer(1460, 65535).mss, 1460);
  EXPECT_EQ(SynOptions::offer(1460, 65535).window_scale, 0);
  EXPECT_EQ(SynOptions::offer(1460, 65536).window_scale, 1);
  EXPECT_EQ(SynOptions::offer(1460, 1024 * 1024).window_scale, 5);
  EXPECT_EQ(SynOptions::offer(1460, 1u << 30).window_scale, 14);  // RFC 7323 2.3 cap
}

TEST(TcpSynOptions, AnswerCarriesWindowScaleOnlyWhenTheDeviceOfferedIt) {
  EXPECT_EQ(SynOptions::answer(1460, 1024 * 1024, device(1460, 7)).window_scale, 5);
  EXPECT_FALSE(SynOptions::answer(1460, 1024 * 1024, device(1460, std::nullopt)).window_scale);
  EXPECT_EQ(SynOptions::answer(1460, 1024 * 1024, device(std::nullopt, std::nullopt)).mss, 1460);
}

TEST(TcpSynNegotiation, SendMssIsTheSmallerOfBoth) {
  const SynOptions ours = SynOptions::offer(1460, 65535);
  EXPECT_EQ(negotiate(ours, device(1200, std::nullopt)).send_mss, 1200);
  EXPECT_EQ(negotiate(ours, device(9000, std::nullopt)).send_mss, 1460);
}

TEST(TcpSynNegotiation, MissingMssOptionMeans536) {
  EXPECT_EQ(negotiate(SynOptions::offer(1460, 65535), device(std::nullopt, 7)).send_mss, 536);
}

TEST(TcpSynNegotiation, TinyMssIsRaisedTo48) {
  EXPECT_EQ(negotiate(SynOptions::offer(1460, 65535), device(1, 7)).send_mss, 48);
}

TEST(TcpSynNegotiation, BothShiftsApplyWhenBothSynsCarryTheOption) {
  const NegotiatedOptions negotiated = negotiate(SynOptions::offer(1460, 1 << 20), device(1460, 7));
  EXPECT_EQ(negotiated.send_shift, 7);
  EXPECT_EQ(negotiated.receive_shift, 5);
}

TEST(TcpSynNegotiation, DeviceShiftIsClampedTo14) {
  EXPECT_EQ(negotiate(SynOptions::offer(1460, 1 << 20), device(1460, 20)).send_shift, 14);
}

TEST(TcpSynNegotiation, NoScalingEitherWayWhenOneSideOffersNone) {
  // Our offer without the device's (active open, RFC 7323 1.3): our shift is void.
  NegotiatedOptions negotiated = negotiate(SynOptions::offer(1460, 1 << 20), device(1460, {}));
  EXPECT_EQ(negotiated.send_shift, 0);
  EXPECT_EQ(negotiated.receive_shift, 0);
  // The device's without ours.
  negotiated = negotiate(SynOptions{1460, std::nullopt}, device(1460, 7));
  EXPECT_EQ(negotiated.send_shift, 0);
  EXPECT_EQ(negotiated.receive_shift, 0);
}

TEST(TcpSynNegotiation, PassiveAndActiveOpensAgreeOnTheSameOptions) {
  for (std::optional<std::uint16_t> mss : {std::optional<std::uint16_t>{}, {100}, {9000}}) {
    for (std::optional<std::uint8_t> scale : {std::optional<std::uint8_t>{}, {0}, {7}, {15}}) {
      const wire::TcpOptions peer = device(mss, scale);
      const NegotiatedOptions passive = negotiate(SynOptions::answer(1460, 1 << 20, peer), peer);
      const NegotiatedOptions active = negotiate(SynOptions::offer(1460, 1 << 20), peer);
      EXPECT_EQ(passive.send_mss, active.send_mss);
      EXPECT_EQ(passive.send_shift, active.send_shift);
      EXPECT_EQ(passive.receive_shift, active.receive_shift);
    }
  }
}

}  // namespace
}  // namespace rtether::tcp
