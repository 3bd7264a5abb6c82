#include "tcp/time_wait.hpp"

#include "wire/transport.hpp"

namespace rtether::tcp {

namespace {
constexpr std::uint8_t kAck = wire::tcp_flag::kAck;
constexpr std::uint8_t kFin = wire::tcp_flag::kFin;
constexpr std::uint8_t kRst = wire::tcp_flag::kRst;
}  // namespace

TimeWait::TimeWait(SeqNumber seq, SeqNumber rcv_nxt, std::uint16_t window_field,
                   std::uint32_t window, Time deadline, Duration duration)
    : seq_(seq),
      rcv_nxt_(rcv_nxt),
      window_(window),
      window_field_(window_field),
      duration_(duration),
      deadline_(deadline) {}

TimeWait::Reply TimeWait::on_segment(const Segment& segment, Time now) {
  Reply reply;
  if (segment.flags & kRst) {
    if (segment.seq == rcv_nxt_)
      reply.closed = true;
    else if (segment.seq > rcv_nxt_ && segment.seq < rcv_nxt_ + window_)
      reply.segment = ack();
    return reply;
  }
  reply.segment = ack();
  if (!(segment.flags & wire::tcp_flag::kSyn) && (segment.flags & kFin))
    deadline_ = now + duration_;
  return reply;
}

OutSegment TimeWait::ack() const {
  OutSegment out;
  out.seq = seq_;
  out.ack = rcv_nxt_;
  out.flags = kAck;
  out.window = window_field_;
  return out;
}

}  // namespace rtether::tcp
