// DatagramFlow: see datagram_flow.hpp.
#include "relay/datagram_flow.hpp"

#include "relay/flow_context.hpp"
#include "relay/flow_table.hpp"

namespace rtether::relay {

DatagramFlow::DatagramFlow(FlowContext& context, const FlowKey& key,
                           std::chrono::seconds idle_timeout)
    : Flow(context, key),
      timer_(context.loop(), [this] { on_timer(); }),
      last_activity_(context.now()),
      idle_timeout_(idle_timeout) {}

void DatagramFlow::touch() { last_activity_ = context_.now(); }

void DatagramFlow::watch_socket(std::uint32_t events) {
  context_.loop().add(socket_.get(), events, this);
  timer_.arm(last_activity_ + idle_timeout_);
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
  socket_.reset();
}

}  // namespace rtether::relay
