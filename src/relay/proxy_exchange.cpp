// advance_proxy_handshake: see proxy_exchange.hpp.
#include "relay/proxy_exchange.hpp"

#include "io/socket.hpp"

namespace rtether::relay {

namespace {

std::uint64_t& counter_for(Counters& counters, wire::ProxyError error) {
  switch (error) {
    case wire::ProxyError::Malformed:
      return counters.proxy_bad_replies;
    case wire::ProxyError::AuthRequired:
    case wire::ProxyError::AuthFailed:
      return counters.proxy_auth_failed;
    case wire::ProxyError::NotAllowed:
      return counters.proxy_not_allowed;
    case wire::ProxyError::TargetRefused:
      return counters.proxy_target_refused;
    case wire::ProxyError::None:
    case wire::ProxyError::Unsupported:
    case wire::ProxyError::Failed:
      break;
  }
  return counters.proxy_failed;
}

ProxyProgress failed(std::uint64_t& counter, std::string why) {
  return {ProxyProgress::Result::Failed, &counter, std::move(why)};
}

}  // namespace

ProxyProgress advance_proxy_handshake(int fd, wire::ProxyHandshake& handshake,
                                      wire::MutableBytes scratch, Counters& counters) {
  // Each round sends what the handshake has to say and takes the proxy's
  // answers; SOCKS5 has at most three (method, authentication, reply).
  for (int round = 0; round < 4; ++round) {
    while (!handshake.output().empty()) {
      auto sent = io::send_some(fd, handshake.output());
      if (sent.would_block()) return {};
      if (!sent) return failed(counters.proxy_connect_failed, sent.error().message());
      handshake.output_sent(*sent);
    }
    auto room = scratch.first(wire::ProxyHandshake::kMaxAnswer);
    auto peeked = io::peek_some(fd, room);
    if (peeked.would_block()) return {};
    if (!peeked) return failed(counters.proxy_connect_failed, peeked.error().message());
    if (*peeked == 0) return failed(counters.proxy_connect_failed, "closed before answering");
    const std::size_t used = handshake.feed(room.first(*peeked));
    if (used > 0) {
      auto discarded = io::discard(fd, used);
      if (!discarded || *discarded != used)
        return failed(counters.proxy_connect_failed, "its answer could not be read");
    }
    if (handshake.state() == wire::ProxyHandshake::State::Failed)
      return failed(counter_for(counters, handshake.error()),
                    std::string(wire::to_string(handshake.error())));
    if (handshake.state() == wire::ProxyHandshake::State::Done)
      return {ProxyProgress::Result::Done, nullptr, {}};
    if (used == 0) return {};  // part of an answer: the rest brings a new edge
  }
  return failed(counters.proxy_bad_replies, "too many answers");
}

}  // namespace rtether::relay
