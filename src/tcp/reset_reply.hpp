// tcp::reset_reply: the reset that answers a segment for which no
// connection exists (RFC 9293 3.10.7.1, state CLOSED), as a pure function of
// that segment (smoltcp's rst_reply). The relay sends it for a device
// segment that matches no flow; the endpoint sends it in SYN-SENT for an ACK
// that is not about our SYN (RFC 9293 3.10.7.3 answers it the same way).
#pragma once

#include "tcp/segment.hpp"

namespace rtether::tcp {

// "If the ACK bit is off, sequence number zero is used,
//    <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
//  If the ACK bit is on,
//    <SEQ=SEG.ACK><CTL=RST>"
// SEG.LEN counts the payload, SYN and FIN. A segment that carries a RST
// itself must not be answered ("An incoming segment containing a RST is
// discarded"): callers drop it instead of asking.
OutSegment reset_reply(const Segment& segment);

}  // namespace rtether::tcp
