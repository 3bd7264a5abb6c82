// tcp::reset_reply (see reset_reply.hpp).
#include "tcp/reset_reply.hpp"

namespace rtether::tcp {

OutSegment reset_reply(const Segment& segment) {
  using wire::tcp_flag::kAck;
  using wire::tcp_flag::kFin;
  using wire::tcp_flag::kRst;
  using wire::tcp_flag::kSyn;
  OutSegment reply;
  if (segment.flags & kAck) {
    reply.seq = segment.ack;
    reply.flags = kRst;
    return reply;
  }
  auto length = static_cast<std::uint32_t>(segment.payload.size());
  if (segment.flags & kSyn) ++length;
  if (segment.flags & kFin) ++length;
  reply.ack = segment.seq + length;
  reply.flags = kRst | kAck;
  return reply;
}

}  // namespace rtether::tcp
