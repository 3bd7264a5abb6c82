// Socks5UdpAssociation: see socks5_udp_association.hpp.
#include "relay/socks5_udp_association.hpp"

#include "relay/flow_context.hpp"
#include "relay/proxy_exchange.hpp"

namespace rtether::relay {

Socks5UdpAssociation::Socks5UdpAssociation(FlowContext& context, Callbacks callbacks)
    : context_(context),
      callbacks_(std::move(callbacks)),
      handshake_(wire::Socks5Command::UdpAssociate, wire::Socks5Address{},
                 context.config().proxy->credentials),
      timer_(context.loop(),
             [this] {
               if (!associated_) end(context_.counters().proxy_timeouts, "no answer in time");
             }),
      advance_later_(context.loop(), [this] { advance(); }) {}

Socks5UdpAssociation::~Socks5UdpAssociation() {
  if (socket_.valid()) context_.loop().remove(socket_.get());
}

std::error_code Socks5UdpAssociation::open() {
  auto connection = io::connect_nonblocking(io::Transport::Tcp, context_.config().proxy->address,
                                            context_.outbound());
  if (!connection) return connection.error();
  socket_ = std::move(connection->fd);
  context_.loop().add(socket_.get(), io::Interest::ReadWrite, io::Trigger::Edge, this);
  timer_.arm(context_.now() + context_.config().proxy_timeout);
  connecting_ = connection->in_progress;
  // Reported from the loop, not from here: the caller has not finished
  // setting its flow up yet.
  if (!connecting_) advance_later_.schedule();
  return {};
}

void Socks5UdpAssociation::on_ready(io::Readiness readiness) {
  if (ended_) return;
  if (connecting_) {
    if (!readiness.writable && !readiness.error && !readiness.hangup) return;
    connecting_ = false;
    if (readiness.error || readiness.hangup) {
      auto error = io::connect_result(socket_.get());
      return end(context_.counters().proxy_connect_failed,
                 error ? error.message() : "connection closed");
    }
  }
  advance();
}

void Socks5UdpAssociation::advance() {
  if (ended_ || connecting_) return;
  if (associated_) {
    // The proxy says nothing more on this connection; its end (or anything
    // it sends) ends the association.
    std::uint8_t byte;
    auto peeked = io::peek_some(socket_.get(), wire::MutableBytes{&byte, 1});
    if (peeked.would_block()) return;
    return end(context_.counters().proxy_connect_failed, "the proxy ended the association");
  }
  auto progress = advance_proxy_handshake(socket_.get(), handshake_,
                                          context_.peek_scratch(wire::ProxyHandshake::kMaxAnswer),
                                          context_.counters());
  if (progress.result == ProxyProgress::Result::Failed) return end(*progress.counter, progress.why);
  if (progress.result == ProxyProgress::Result::Waiting) return;
  if (!handshake_.bound())
    return end(context_.counters().proxy_bad_replies, "no IP address to send datagrams to");
  associated_ = true;
  timer_.cancel();
  io::Endpoint relay{handshake_.bound()->address, handshake_.bound()->port};
  const auto& zeros = wire::IpAddress{relay.address.version, {}};
  if (relay.address == zeros) relay.address = context_.config().proxy->address.address;
  callbacks_.associated(relay);
}

void Socks5UdpAssociation::end(std::uint64_t& counter, const std::string& why) {
  if (ended_) return;
  ended_ = true;
  timer_.cancel();
  ++counter;
  callbacks_.ended(counter, why);
}

}  // namespace rtether::relay
