// StreamLink: see stream_link.hpp.
#include "relay/stream_link.hpp"

namespace rtether::relay {

namespace {
constexpr int kClientSocketBuffer = 4 * 1024 * 1024;  // as the Linux client asks on its side
}  // namespace

StreamLink::StreamLink(io::Fd socket) : socket_(std::move(socket)) {
  io::set_no_delay(socket_.get());
  // Room for several maximal packets in the kernel too, so a flush rarely
  // would block and the relay rarely waits for writability (capped by
  // net.core.wmem_max/rmem_max; kernel memory, used only while full).
  io::set_buffer_sizes(socket_.get(), kClientSocketBuffer, kClientSocketBuffer);
}

LinkRead StreamLink::read(PacketSink& sink, int budget, bool hung_up) {
  using Status = LinkRead::Status;
  for (int reads = 0; reads < budget; ++reads) {
    auto room = framer_.writable();
    auto got = io::recv_some(socket_.get(), room);
    if (got.would_block()) return {Status::Drained};
    if (!got) return {Status::Failed, "client socket error"};
    if (*got == 0) return {Status::Ended, "client disconnected"};
    framer_.commit(*got);
    while (auto packet = framer_.next()) {
      if (!sink.on_packet(*packet)) return {Status::Stopped};
    }
    if (framer_.failed()) {
      return {Status::Failed, "bad stream", wire::to_string(framer_.error())};
    }
    // A short read drained the socket; more data brings a new edge. After a
    // hang-up no edge follows, so read on to the end of the stream.
    if (*got < room.size() && !hung_up) return {Status::Drained};
  }
  return {Status::BudgetUsed};
}

LinkSend StreamLink::send(wire::Bytes queued) {
  LinkSend result;
  auto sent = io::send_some(socket_.get(), queued);
  if (sent.would_block()) {
    result.blocked = true;
  } else if (!sent) {
    result.error = sent.error();
  } else {
    result.consumed = *sent;
  }
  return result;
}

}  // namespace rtether::relay
