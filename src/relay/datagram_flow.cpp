// DatagramFlow: see datagram_flow.hpp.
#include "relay/datagram_flow.hpp"

#include "relay/flow_context.hpp"
#include "relay/flow_table.hpp"

namespace rtether::relay {

DatagramFlow::DatagramFlow(FlowContext& context, const FlowKey& key,
                           std::chrono::seconds idle_timeout, std::size_t header_room,
                           std::size_t max_datagram)
    : Flow(context, key),
      max_datagram_(max_datagram),
      timer_(context.loop(), [this] { on_timer(); }),
      resume_(context.loop(), [this] { pump(); }),
      last_activity_(context.now()),
      idle_timeout_(idle_timeout),
      header_room_(header_room) {}

void DatagramFlow::touch() { last_activity_ = context_.now(); }

void DatagramFlow::watch_socket() {
  context_.loop().add(socket_.get(), io::Interest::Read, io::Trigger::Edge, this);
  timer_.arm(last_activity_ + idle_timeout_);
}

void DatagramFlow::pump() {
  if (retired_) return;
  while (readable_) {
    auto room = context_.reserve(header_room_ + max_datagram_, false);
    if (room.empty()) {
      context_.wait_for_output(*this);
      return;
    }
    auto got = receive(room.subspan(header_room_, max_datagram_));
    if (got.would_block()) {
      readable_ = false;
      return;
    }
    if (got.error() == std::errc::interrupted) {
      resume_.schedule();  // readable_ stays: the rest is read next turn
      return;
    }
    if (!got) {
      // A pending ICMP error (connection refused, ...): its details wait in
      // the error queue; the next read goes on.
      report_host_errors(context_, socket_.get(), key_, quote_);
      continue;
    }
    std::size_t length = frame(room, *got);
    if (length > 0) context_.commit(length);
  }
}

void DatagramFlow::on_timer() {
  if (retired_) return;
  auto expiry = last_activity_ + idle_timeout_;
  if (context_.now() < expiry) return timer_.arm(expiry);
  ++context_.counters().flows_expired;
  finish();
}

void DatagramFlow::finish() {
  if (retired_) return;
  timer_.cancel();
  context_.flows().retire(*this);
  close_socket(socket_);
}

}  // namespace rtether::relay
