// tcp::reset_reply: RFC 9293 3.10.7.1's two answers to a segment for which no
// connection exists, with SEG.LEN counting payload, SYN and FIN.
#include <gtest/gtest.h>

#include <vector>

#include "tcp/reset_reply.hpp"
#include "tcp/seq_number_printer.hpp"

namespace rtether::tcp {
namespace {

using wire::tcp_flag::kAck;
using wire::tcp_flag::kFin;
using wire::tcp_flag::kPsh;
using wire::tcp_flag::kRst;
using wire::tcp_flag::kSyn;

Segment segment(std::uint32_t seq, std::uint32_t ack, std::uint8_t flags, std::size_t length = 0) {
  static const std::vector<std::uint8_t> bytes(1000, 0x42);
  Segment s;
  s.seq = SeqNumber{seq};
  s.ack = SeqNumber{ack};
  s.flags = flags;
  s.window = 1000;
  s.payload = wire::Bytes(bytes).first(length);
  return s;
}

TEST(TcpResetReply, SegmentWithAckGetsABareResetAtItsAck) {
  const OutSegment reply = reset_reply(segment(1000, 0xCAFE, kAck | kPsh, 100));
  EXPECT_EQ(reply.flags, kRst);
  EXPECT_EQ(reply.seq, SeqNumber{0xCAFE});
  EXPECT_EQ(reply.ack, SeqNumber{0});
  EXPECT_EQ(reply.window, 0);
  EXPECT_FALSE(reply.mss);
  EXPECT_FALSE(reply.window_scale);
}

TEST(TcpResetReply, SynAckGetsABareResetAtItsAck) {
  const OutSegment reply = reset_reply(segment(1000, 77, kSyn | kAck));
  EXPECT_EQ(reply.flags, kRst);
  EXPECT_EQ(reply.seq, SeqNumber{77});
}

TEST(TcpResetReply, SegmentWithoutAckIsAcknowledgedFromSequenceZero) {
  const OutSegment reply = reset_reply(segment(1000, 0xCAFE, kPsh, 100));
  EXPECT_EQ(reply.flags, kRst | kAck);
  EXPECT_EQ(reply.seq, SeqNumber{0});
  EXPECT_EQ(reply.ack, SeqNumber{1100}) << "the ACK field of the segment is ignored";
}

TEST(TcpResetReply, SynAndFinEachCountOne) {
  EXPECT_EQ(reset_reply(segment(1000, 0, kSyn)).ack, SeqNumber{1001});
  EXPECT_EQ(reset_reply(segment(1000, 0, kFin, 10)).ack, SeqNumber{1011});
  EXPECT_EQ(reset_reply(segment(1000, 0, kSyn | kFin, 10)).ack, SeqNumber{1012});
  EXPECT_EQ(reset_reply(segment(1000, 0, 0)).ack, SeqNumber{1000});
}

TEST(TcpResetReply, AcknowledgesAcrossSequenceWraparound) {
  EXPECT_EQ(reset_reply(segment(0xFFFFFFF0, 0, kPsh, 0x20)).ack, SeqNumber{0x10});
}

}  // namespace
}  // namespace rtether::tcp
