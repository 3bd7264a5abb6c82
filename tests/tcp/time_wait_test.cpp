// tcp::TimeWait: the compact record answers every kind of device segment
// exactly as the Endpoint it came from would in TimeWait (same segment out,
// same close, same deadline), so the relay may drop the endpoint.
#include "tcp/time_wait.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tcp/endpoint_fixtures.hpp"

namespace rtether::tcp {
namespace {

using namespace fixtures;

struct Case {
  std::string name;
  Segment segment;
};

// One of each answer TIME-WAIT has: ACK (and 2 MSL restarted), challenge
// ACK, close, silence. Sequence numbers relative to the fixtures' state
// after both FINs: the device's next byte is kIrs + 2, ours kIss + 2.
std::vector<Case> cases() {
  return {
      {"retransmitted FIN", device_segment(kIrs + 1, kIss + 2, kAck | kFin, 1000)},
      {"plain ACK", device_segment(kIrs + 2, kIss + 2, kAck, 1000)},
      {"data after the FIN", device_segment(kIrs + 2, kIss + 2, kAck | kPsh, 1000, payload(10))},
      {"segment without ACK", device_segment(kIrs + 2, kZero, 0, 1000)},
      {"exact RST", device_segment(kIrs + 2, kZero, kRst, 0)},
      {"RST inside the window", device_segment(kIrs + 50, kZero, kRst, 0)},
      {"RST outside the window", device_segment(kIrs - 50, kZero, kRst, 0)},
      {"SYN", device_segment(kIrs + 900, kZero, kSyn, 1000)},
      {"SYN with FIN", device_segment(kIrs + 900, kZero, kSyn | kFin, 1000)},
  };
}

void expect_same(const std::optional<OutSegment>& ours, const std::optional<OutSegment>& theirs,
                 const std::string& name) {
  ASSERT_EQ(ours.has_value(), theirs.has_value()) << name;
  if (!ours) return;
  EXPECT_EQ(ours->seq, theirs->seq) << name;
  EXPECT_EQ(ours->ack, theirs->ack) << name;
  EXPECT_EQ(ours->flags, theirs->flags) << name;
  EXPECT_EQ(ours->window, theirs->window) << name;
  EXPECT_FALSE(ours->mss) << name;
  EXPECT_FALSE(ours->window_scale) << name;
}

TEST(TcpTimeWait, KeepsTheEndpointsDeadline) {
  Endpoint endpoint = time_wait();
  TimeWait record = endpoint.time_wait();
  EXPECT_EQ(record.deadline(), endpoint.deadline());
}

TEST(TcpTimeWait, AnswersEverySegmentAsTheEndpointWould) {
  for (const Case& c : cases()) {
    for (bool scaled : {true, false}) {
      Handshake setup;
      if (!scaled) setup.device_window_scale.reset();
      Endpoint endpoint = time_wait(setup);
      ASSERT_EQ(endpoint.state(), State::TimeWait);
      TimeWait record = endpoint.time_wait();
      const Time later = kStart + 500ms;
      const std::string name = c.name + (scaled ? " (scaled)" : " (unscaled)");

      auto input = endpoint.on_segment(c.segment, later);
      auto reply = record.on_segment(c.segment, later);
      std::vector<OutSegment> out = drain(endpoint, later);
      ASSERT_LE(out.size(), 1u) << name;
      expect_same(reply.segment, out.empty() ? std::nullopt : std::optional(out.front()), name);
      EXPECT_EQ(reply.closed, input.reset) << name;
      EXPECT_EQ(reply.closed, endpoint.closed()) << name;
      EXPECT_TRUE(input.data.empty()) << name;
      if (!endpoint.closed()) {
        EXPECT_EQ(record.deadline(), endpoint.deadline()) << name;
      }
    }
  }
}

TEST(TcpTimeWait, RetransmittedFinRestartsTwoMsl) {
  Endpoint endpoint = time_wait();
  TimeWait record = endpoint.time_wait();
  const Time later = kStart + 1500ms;
  auto reply = record.on_segment(device_segment(kIrs + 1, kIss + 2, kAck | kFin, 1000), later);
  ASSERT_TRUE(reply.segment);
  EXPECT_EQ(reply.segment->flags, kAck);
  EXPECT_EQ(reply.segment->seq, kIss + 2);
  EXPECT_EQ(reply.segment->ack, kIrs + 2);
  EXPECT_EQ(record.deadline(), later + Config{}.time_wait);
  EXPECT_GT(record.deadline(), kStart + Config{}.time_wait);
}

}  // namespace
}  // namespace rtether::tcp
