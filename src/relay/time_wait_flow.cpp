#include "relay/time_wait_flow.hpp"

#include "relay/counters.hpp"
#include "relay/flow_context.hpp"
#include "relay/flow_table.hpp"
#include "tcp/segment.hpp"
#include "wire/packet_builder.hpp"
#include "wire/transport.hpp"

namespace rtether::relay {

TimeWaitFlow::TimeWaitFlow(FlowContext& context, const FlowKey& key, const tcp::TimeWait& state)
    : Flow(context, key), state_(state) {}

void TimeWaitFlow::on_device_packet(const wire::IpPacket& packet) {
  if (retired_) return;
  auto view = wire::TcpView::parse(packet.payload);
  if (!view) {
    ++context_.counters().drop_bad_transport;
    return;
  }
  const io::Time before = state_.deadline();
  auto reply = state_.on_segment(tcp::Segment::from(*view), context_.now());
  if (reply.closed) return shut_down();
  if (reply.segment) send(*reply.segment);
  if (state_.deadline() != before) context_.flows().extend_lingering(*this, state_.deadline());
}

void TimeWaitFlow::send(const tcp::OutSegment& segment) {
  auto header = header_toward_device<wire::TcpSegmentHeader>(key_);
  header.seq = segment.seq.raw();
  header.ack = segment.ack.raw();
  header.flags = segment.flags;
  header.window = segment.window;
  auto room = context_.reserve(wire::tcp_header_size(header), true);
  if (room.empty()) return;  // counted by reserve(); the device retransmits its FIN
  context_.commit(wire::write_tcp_headers(room, header, 0, context_.checksums()));
}

void TimeWaitFlow::shut_down() {
  if (retired_) return;
  context_.flows().retire(*this);
}

}  // namespace rtether::relay
