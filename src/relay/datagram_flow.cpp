// DatagramFlow: see datagram_flow.hpp.
#include "relay/datagram_flow.hpp"

#include "relay/client_session.hpp"

namespace rtether::relay {

DatagramFlow::DatagramFlow(ClientSession& session, const FlowKey& key,
                           std::chrono::seconds idle_timeout)
    : Flow(session, key),
      timer_(session.loop(), [this] { on_timer(); }),
      last_activity_(session.now()),
      idle_timeout_(idle_timeout) {}

void DatagramFlow::touch() { last_activity_ = session_.now(); }

void DatagramFlow::watch_socket() {
  session_.loop().add(socket_.get(), io::Interest::Read, io::Trigger::Edge, this);
  timer_.arm(last_activity_ + idle_timeout_);
}

void DatagramFlow::on_timer() {
  if (retired_) return;
  auto expiry = last_activity_ + idle_timeout_;
  if (session_.now() < expiry) return timer_.arm(expiry);
  ++session_.mutable_counters().flows_expired;
  finish();
}

void DatagramFlow::finish() {
  if (retired_) return;
  timer_.cancel();
  session_.retire(this);
  socket_.reset();
}

}  // namespace rtether::relay
