// tcp::Endpoint active open (port forwarding): SYN-SENT per RFC 9293
// 3.10.7.3, SYN retransmission, window scaling negotiated from the device's
// SYN-ACK, and the established connection carrying data both ways.
#include <gtest/gtest.h>

#include "endpoint_fixtures.hpp"

namespace rtether::tcp {
namespace {

using namespace fixtures;

Endpoint syn_sent(const Config& config = {}) { return Endpoint::active(config, kIss, kStart); }

Segment device_syn_ack(SeqNumber ack, std::optional<std::uint8_t> scale = 7,
                       std::optional<std::uint16_t> mss = 1400) {
  Segment segment = device_segment(kIrs, ack, kSyn | kAck, 64000);
  segment.options.window_scale = scale;
  segment.options.mss = mss;
  return segment;
}

TEST(TcpEndpointSynSent, SendsASynWithMssAndWindowScale) {
  Config config;
  config.mss = 1460;
  config.receive_buffer = 1 << 20;
  Endpoint endpoint = syn_sent(config);
  EXPECT_EQ(endpoint.state(), State::SynSent);
  auto out = drain(endpoint, kStart);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].flags, kSyn);
  EXPECT_EQ(out[0].seq, kIss);
  EXPECT_EQ(out[0].mss, 1460);
  ASSERT_TRUE(out[0].window_scale);
  EXPECT_EQ(*out[0].window_scale, 5);  // 65535 << 5 covers 1 MiB
  EXPECT_EQ(out[0].window, 65535);     // a SYN's window is never scaled
  EXPECT_EQ(endpoint.send_allowance(), 0u);
}

TEST(TcpEndpointSynSent, SynAckMovesToEstablishedAndIsAcknowledged) {
  Endpoint endpoint = syn_sent();
  drain(endpoint, kStart);
  auto input = endpoint.on_segment(device_syn_ack(kIss + 1), kStart + 1ms);
  EXPECT_TRUE(input.can_send_more);
  EXPECT_EQ(endpoint.state(), State::Established);
  EXPECT_EQ(endpoint.rcv_nxt(), kIrs + 1);
  EXPECT_EQ(endpoint.max_segment(), 1400);
  EXPECT_EQ(endpoint.send_window(), 64000u);  // the SYN-ACK's window, unscaled
  auto out = drain(endpoint, kStart + 1ms);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].flags, kAck);
  EXPECT_EQ(out[0].seq, kIss + 1);
  EXPECT_EQ(out[0].ack, kIrs + 1);
}

TEST(TcpEndpointSynSent, LaterWindowsAreScaledWhenBothOfferedScaling) {
  Endpoint endpoint = syn_sent();
  drain(endpoint, kStart);
  endpoint.on_segment(device_syn_ack(kIss + 1, 3), kStart);
  endpoint.on_segment(device_segment(kIrs + 1, kIss + 1, kAck, 1000), kStart);
  EXPECT_EQ(endpoint.send_window(), 8000u);
}

TEST(TcpEndpointSynSent, NoScalingWhenTheDeviceOffersNone) {
  Config config;
  config.receive_buffer = 1 << 20;
  Endpoint endpoint = syn_sent(config);
  drain(endpoint, kStart);
  endpoint.on_segment(device_syn_ack(kIss + 1, std::nullopt), kStart);
  endpoint.on_segment(device_segment(kIrs + 1, kIss + 1, kAck, 1000), kStart);
  EXPECT_EQ(endpoint.send_window(), 1000u);
  // Our window is not scaled either: the field says the real space, capped.
  endpoint.set_receive_space(30000);
  drain(endpoint, kStart);
  auto data = endpoint.send_data(10, kStart);
  EXPECT_EQ(data.window, 30000);
}

TEST(TcpEndpointSynSent, RstAcknowledgingOurSynIsConnectionRefused) {
  Endpoint endpoint = syn_sent();
  drain(endpoint, kStart);
  auto input = endpoint.on_segment(device_segment(kZero, kIss + 1, kRst | kAck, 0), kStart);
  EXPECT_TRUE(input.reset);
  EXPECT_TRUE(endpoint.closed());
  EXPECT_TRUE(drain(endpoint, kStart).empty());
}

TEST(TcpEndpointSynSent, SegmentsNotAboutOurSynAreIgnored) {
  Endpoint endpoint = syn_sent();
  drain(endpoint, kStart);
  // A RST without ACK, a RST acking something else, a bare ACK, a bare SYN
  // (simultaneous open).
  EXPECT_FALSE(endpoint.on_segment(device_segment(kZero, kZero, kRst, 0), kStart).reset);
  EXPECT_FALSE(endpoint.on_segment(device_segment(kZero, kIss + 9, kRst | kAck, 0), kStart).reset);
  endpoint.on_segment(device_segment(kIrs, kIss + 1, kAck, 1000), kStart);
  endpoint.on_segment(device_segment(kIrs, kZero, kSyn, 1000), kStart);
  EXPECT_EQ(endpoint.state(), State::SynSent);
  EXPECT_TRUE(drain(endpoint, kStart).empty());
}

// RFC 9293 3.10.7.3: an ACK of something other than our SYN (here the
// challenge ACK of a stale connection the device still holds on these ports)
// is answered <SEQ=SEG.ACK><CTL=RST>, without ACK, and the open goes on: the
// resent SYN then opens a fresh connection.
TEST(TcpEndpointSynSent, ForeignAckIsAnsweredWithABareResetAndTheOpenGoesOn) {
  Config config;
  config.syn_ack_timeout = 1s;
  Endpoint endpoint = syn_sent(config);
  drain(endpoint, kStart);
  constexpr SeqNumber kStaleAck{0x12345678};
  auto input = endpoint.on_segment(device_segment(kIrs, kStaleAck, kAck, 1000), kStart);
  EXPECT_FALSE(input.reset);
  auto out = drain(endpoint, kStart);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].flags, kRst);
  EXPECT_EQ(out[0].seq, kStaleAck);
  EXPECT_EQ(out[0].ack, kZero);
  EXPECT_EQ(endpoint.state(), State::SynSent);
  // A SYN-ACK with a wrong ACK is answered the same way.
  endpoint.on_segment(device_syn_ack(kIss + 7), kStart);
  out = drain(endpoint, kStart);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].flags, kRst);
  EXPECT_EQ(out[0].seq, kIss + 7);
  // The SYN is resent on time and the real answer completes the open.
  endpoint.on_timer(kStart + 1s);
  out = drain(endpoint, kStart + 1s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].flags, kSyn);
  endpoint.on_segment(device_syn_ack(kIss + 1), kStart + 1s);
  EXPECT_EQ(endpoint.state(), State::Established);
  out = drain(endpoint, kStart + 1s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].flags, kAck);
}

TEST(TcpEndpointSynSent, SynIsResentWithBackOffThenGivenUp) {
  Config config;
  config.syn_ack_timeout = 1s;
  config.syn_ack_retries = 2;
  Endpoint endpoint = syn_sent(config);
  drain(endpoint, kStart);
  EXPECT_EQ(endpoint.deadline(), kStart + 1s);
  endpoint.on_timer(kStart + 1s);
  auto out = drain(endpoint, kStart + 1s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].flags, kSyn);
  EXPECT_EQ(endpoint.deadline(), kStart + 3s);
  endpoint.on_timer(kStart + 3s);
  EXPECT_EQ(drain(endpoint, kStart + 3s).size(), 1u);
  endpoint.on_timer(kStart + 7s);
  EXPECT_TRUE(endpoint.closed());
  EXPECT_TRUE(drain(endpoint, kStart + 7s).empty());  // nothing synchronized, no reset
}

TEST(TcpEndpointSynSent, HostResetBeforeTheAnswerCancelsTheSyn) {
  Endpoint endpoint = syn_sent();
  drain(endpoint, kStart);
  endpoint.host_reset(kStart);
  auto out = drain(endpoint, kStart);
  ASSERT_EQ(out.size(), 1u);
  // No ACK flag: Linux in SYN_RECV ignores a RST whose ACK field is wrong.
  EXPECT_EQ(out[0].flags, kRst);
  EXPECT_EQ(out[0].seq, kIss + 1);
  EXPECT_TRUE(endpoint.closed());
}

TEST(TcpEndpointSynSent, HostClosingEarlySendsFinOnceEstablished) {
  Endpoint endpoint = syn_sent();
  drain(endpoint, kStart);
  endpoint.host_closed(kStart);
  EXPECT_TRUE(drain(endpoint, kStart).empty());
  endpoint.on_segment(device_syn_ack(kIss + 1), kStart);
  EXPECT_EQ(endpoint.state(), State::FinWait1);
  auto out = drain(endpoint, kStart);
  ASSERT_FALSE(out.empty());
  EXPECT_TRUE(out.back().flags & kFin);
  EXPECT_EQ(out.back().seq, kIss + 1);
}

TEST(TcpEndpointSynSent, DataFlowsBothWaysOnceEstablished) {
  Endpoint endpoint = syn_sent();
  drain(endpoint, kStart);
  endpoint.on_segment(device_syn_ack(kIss + 1), kStart);
  drain(endpoint, kStart);
  auto sent = endpoint.send_data(100, kStart);
  EXPECT_EQ(sent.seq, kIss + 1);
  auto input = endpoint.on_segment(device_segment(kIrs + 1, kIss + 101, kAck, 1000, payload(50)),
                                   kStart + 1ms);
  EXPECT_EQ(input.acked, 100u);
  EXPECT_EQ(input.data.size(), 50u);
  endpoint.accept(50, kStart + 1ms);
  EXPECT_EQ(endpoint.rcv_nxt(), kIrs + 51);
}

}  // namespace
}  // namespace rtether::tcp
