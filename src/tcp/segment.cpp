// tcp::Segment::from: turns a checked wire view into the parsed values the
// endpoint works on.
#include "tcp/segment.hpp"

namespace rtether::tcp {

Segment Segment::from(const wire::TcpView& view) {
  Segment segment;
  segment.seq = SeqNumber{view.seq()};
  segment.ack = SeqNumber{view.ack()};
  segment.flags = view.flags();
  segment.window = view.window();
  // Options matter only on a SYN (MSS, window scale); other segments skip the walk.
  if (segment.flags & wire::tcp_flag::kSyn) segment.options = view.options();
  segment.payload = view.payload();
  return segment;
}

}  // namespace rtether::tcp
