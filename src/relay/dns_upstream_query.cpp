// DnsUpstreamQuery: see dns_upstream_query.hpp.
#include "relay/dns_upstream_query.hpp"

#include <algorithm>
#include <array>

#include "io/log.hpp"
#include "relay/dns_upstream.hpp"
#include "relay/proxy_exchange.hpp"
#include "wire/socks5_udp.hpp"

namespace rtether::relay {

namespace {
constexpr std::size_t kLengthPrefix = 2;  // RFC 1035 4.2.2
// The answer buffer grows by this much per read, up to the message's length.
constexpr std::size_t kTcpReadChunk = 4096;
}  // namespace

DnsUpstreamQuery::DnsUpstreamQuery(FlowContext& context, wire::Bytes query,
                                   const wire::DnsMessage& parsed, Asker asker,
                                   wire::MutableBytes receive_buffer, ProxyUdpHealth& health,
                                   Done done)
    : context_(context),
      query_(query.begin(), query.end()),
      parsed_(parsed),
      asker_(asker),
      receive_buffer_(receive_buffer),
      health_(health),
      done_(std::move(done)),
      timer_(context.loop(), [this] { on_timeout(); }),
      fall_back_task_(context.loop(), [this] { fall_back_to_proxy_tcp(); }) {}

DnsUpstreamQuery::~DnsUpstreamQuery() { end_attempt(); }

void DnsUpstreamQuery::start() {
  if (context_.config().dns_upstreams.empty()) return finish_with_server_failure();
  attempt(Transport::Udp);
}

void DnsUpstreamQuery::cancel() {
  finished_ = true;
  end_attempt();
}

void DnsUpstreamQuery::attempt(Transport transport) {
  ++attempt_;
  transport_ = transport;
  const io::Endpoint& upstream = context_.config().dns_upstreams[upstream_];
  wire::set_dns_id(query_, static_cast<std::uint16_t>(context_.random_iss()));
  const auto& proxy = context_.config().proxy;
  via_proxy_ = proxy && !wire::is_loopback(upstream.address);
  if (via_proxy_) {
    if (transport == Transport::Udp && proxy->carries_udp() && !proxy_without_udp_) {
      if (!health_.udp_blocked_until || context_.now() >= *health_.udp_blocked_until)
        return attempt_proxy_udp();
      ++context_.counters().dns_proxy_udp_skipped;
    }
    transport_ = Transport::Tcp;
    return attempt_proxy_tcp();
  }
  auto connection = io::connect_nonblocking(
      transport == Transport::Udp ? io::Transport::Udp : io::Transport::Tcp, upstream);
  if (!connection) {
    ++context_.counters().dns_upstream_errors;
    log::debug("dns: cannot reach {}: {}", to_string(upstream), connection.error().message());
    return fail_over();
  }
  socket_ = std::move(connection->fd);
  timer_.arm(context_.now() + context_.config().dns_query_timeout);
  if (transport == Transport::Udp) {
    context_.loop().add(socket_.get(), io::Interest::Read, io::Trigger::Edge, this);
    auto sent = io::send_some(socket_.get(), query_);
    if (!sent) {
      ++context_.counters().dns_upstream_errors;
      log::debug("dns: send to {} failed: {}", to_string(upstream), sent.error().message());
      return fail_over();
    }
    return;
  }
  frame_tcp_query();
  connecting_ = connection->in_progress;
  context_.loop().add(socket_.get(), io::Interest::ReadWrite, io::Trigger::Edge, this);
  if (!connecting_) write_tcp();
}

void DnsUpstreamQuery::frame_tcp_query() {
  tcp_out_.resize(kLengthPrefix + query_.size());
  wire::store_be16(tcp_out_.data(), static_cast<std::uint16_t>(query_.size()));
  std::copy(query_.begin(), query_.end(), tcp_out_.begin() + kLengthPrefix);
  tcp_sent_ = 0;
  tcp_in_.clear();
}

void DnsUpstreamQuery::attempt_proxy_udp() {
  ++context_.counters().dns_proxy_udp;
  timer_.arm(context_.now() + context_.config().dns_query_timeout);
  association_ = std::make_unique<Socks5UdpAssociation>(
      context_, Socks5UdpAssociation::Callbacks{
                    [this](const io::Endpoint& relay) { on_associated(relay); },
                    [this](std::uint64_t&, const std::string& why) { on_association_ended(why); }});
  if (auto error = association_->open()) {
    // Not even a connect to the proxy: TCP through it would fail the same.
    ++context_.counters().proxy_connect_failed;
    ++context_.counters().dns_upstream_errors;
    log::debug("dns: cannot reach the proxy {}: {}", context_.config().proxy->to_string(),
               error.message());
    return fail_over();
  }
}

void DnsUpstreamQuery::on_associated(const io::Endpoint& relay) {
  if (finished_ || !association_) return;
  auto connection = io::connect_nonblocking(io::Transport::Udp, relay, context_.outbound());
  if (!connection) return on_association_ended(connection.error().message());
  socket_ = std::move(connection->fd);
  context_.loop().add(socket_.get(), io::Interest::Read, io::Trigger::Edge, this);
  // RFC 1928 7: the header names the upstream, the proxy sends the query
  // on to it.
  const io::Endpoint& upstream = context_.config().dns_upstreams[upstream_];
  const wire::Socks5Address destination{upstream.address, upstream.port};
  const std::size_t header = wire::socks5_udp_header_size(upstream.address.version);
  tcp_out_.resize(header + query_.size());
  wire::write_socks5_udp_header(tcp_out_, destination);
  std::copy(query_.begin(), query_.end(), tcp_out_.begin() + static_cast<long>(header));
  auto sent = io::send_some(socket_.get(), tcp_out_);
  if (!sent) return on_association_ended("send to its UDP relay: " + sent.error().message());
}

void DnsUpstreamQuery::on_association_ended(const std::string& why) {
  if (finished_ || !association_) return;
  log::debug("dns: no UDP through the proxy {} for {} ({}): over TCP through it",
             context_.config().proxy->to_string(),
             to_string(context_.config().dns_upstreams[upstream_]), why);
  proxy_without_udp_ = true;
  // From inside the association's callback: it is ended in the next turn.
  fall_back_task_.schedule();
}

void DnsUpstreamQuery::fall_back_to_proxy_tcp() {
  if (finished_ || !association_) return;  // the attempt ended meanwhile
  ++context_.counters().dns_proxy_udp_fallbacks;
  end_attempt();
  attempt(Transport::Tcp);
}

void DnsUpstreamQuery::attempt_proxy_tcp() {
  const auto& proxy = *context_.config().proxy;
  const io::Endpoint& upstream = context_.config().dns_upstreams[upstream_];
  ++context_.counters().dns_proxy_tcp;
  auto connection =
      io::connect_nonblocking(io::Transport::Tcp, proxy.address, context_.outbound());
  if (!connection) {
    ++context_.counters().proxy_connect_failed;
    ++context_.counters().dns_upstream_errors;
    log::debug("dns: cannot reach the proxy {}: {}", proxy.to_string(),
               connection.error().message());
    return fail_over();
  }
  socket_ = std::move(connection->fd);
  timer_.arm(context_.now() + context_.config().dns_query_timeout);
  tunnel_ = proxy.tcp_handshake(upstream);
  frame_tcp_query();
  connecting_ = connection->in_progress;
  context_.loop().add(socket_.get(), io::Interest::ReadWrite, io::Trigger::Edge, this);
  if (!connecting_) advance_tunnel();
}

void DnsUpstreamQuery::advance_tunnel() {
  auto progress =
      advance_proxy_handshake(socket_.get(), *tunnel_,
                              context_.peek_scratch(wire::ProxyHandshake::kMaxAnswer),
                              context_.counters());
  if (progress.result == ProxyProgress::Result::Waiting) return;
  if (progress.result == ProxyProgress::Result::Failed) {
    ++*progress.counter;
    ++context_.counters().dns_upstream_errors;
    log::debug("dns: the proxy {} gave no tunnel to {}: {}", context_.config().proxy->to_string(),
               to_string(context_.config().dns_upstreams[upstream_]), progress.why);
    return fail_over();
  }
  tunnel_.reset();
  write_tcp();
}

void DnsUpstreamQuery::fail_over() {
  end_attempt();
  proxy_udp_timed_out_ = false;
  if (++upstream_ >= context_.config().dns_upstreams.size()) return finish_with_server_failure();
  ++context_.counters().dns_failovers;
  attempt(Transport::Udp);
}

void DnsUpstreamQuery::end_attempt() {
  timer_.cancel();
  association_.reset();
  tunnel_.reset();
  if (!socket_.valid()) return;
  context_.loop().remove(socket_.get());
  socket_.reset();
}

void DnsUpstreamQuery::on_timeout() {
  if (finished_) return;
  if (via_proxy_ && transport_ == Transport::Udp && !socket_.valid()) {
    // The proxy never granted the association in time: as a refusal.
    log::debug("dns: no UDP ASSOCIATE from the proxy {} in {} ms: over TCP through it",
               context_.config().proxy->to_string(), context_.config().dns_query_timeout.count());
    proxy_without_udp_ = true;
    ++context_.counters().dns_proxy_udp_fallbacks;
    end_attempt();
    return attempt(Transport::Tcp);
  }
  if (via_proxy_ && transport_ == Transport::Udp) {
    // Through the proxy's UDP relay, unanswered: the same upstream over
    // TCP through it before giving up on the upstream (see the header).
    ++context_.counters().dns_proxy_udp_timeouts;
    log::debug("dns: no answer from {} over UDP through the proxy {} in {} ms: over TCP through it",
               to_string(context_.config().dns_upstreams[upstream_]),
               context_.config().proxy->to_string(), context_.config().dns_query_timeout.count());
    proxy_without_udp_ = true;
    proxy_udp_timed_out_ = true;
    end_attempt();
    return attempt(Transport::Tcp);
  }
  ++context_.counters().dns_timeouts;
  log::debug("dns: {} gave no answer in {} ms",
             to_string(context_.config().dns_upstreams[upstream_]),
             context_.config().dns_query_timeout.count());
  fail_over();
}

void DnsUpstreamQuery::on_ready(io::Readiness readiness) {
  if (finished_ || !socket_.valid()) return;
  if (transport_ == Transport::Udp) return read_udp();
  if (connecting_) {
    if (!readiness.writable && !readiness.error) return;
    connecting_ = false;
    if (auto error = io::connect_result(socket_.get())) {
      if (via_proxy_) ++context_.counters().proxy_connect_failed;
      ++context_.counters().dns_upstream_errors;
      log::debug("dns: TCP connect to {} failed: {}",
                 via_proxy_ ? context_.config().proxy->to_string()
                            : to_string(context_.config().dns_upstreams[upstream_]),
                 error.message());
      return fail_over();
    }
  }
  if (tunnel_) {
    // The proxy's answers come before any of the upstream's; the query
    // goes out once the tunnel stands.
    return advance_tunnel();
  }
  const unsigned attempt = attempt_;
  if (readiness.writable) write_tcp();
  if (attempt_ != attempt || finished_) return;  // failed over meanwhile
  if (readiness.readable_or_closed() || readiness.error) read_tcp();
}

void DnsUpstreamQuery::read_udp() {
  // Bounded: each pass takes one queued datagram off the socket, until
  // this attempt ends (answered, failed over, retried over TCP).
  const unsigned attempt = attempt_;
  while (!finished_ && attempt_ == attempt) {
    auto got = io::recv_datagram(socket_.get(), receive_buffer_);
    if (got.would_block()) return;
    if (!got && via_proxy_) {
      // Through the proxy, an ICMP error is about the way to its UDP
      // relay (nothing listens there, a firewall rejects it), not about
      // the upstream (whose errors reach the proxy): as no association.
      log::debug("dns: the proxy {}'s UDP relay answered with an error: {}: over TCP through it",
                 context_.config().proxy->to_string(), got.error().message());
      proxy_without_udp_ = true;
      return fall_back_to_proxy_tcp();
    }
    if (!got) {
      // An ICMP error the upstream's host sent (port unreachable: nobody
      // listens there).
      ++context_.counters().dns_upstream_errors;
      log::debug("dns: {} answered with an error: {}",
                 to_string(context_.config().dns_upstreams[upstream_]), got.error().message());
      return fail_over();
    }
    if (*got > receive_buffer_.size()) {
      ++context_.counters().dns_upstream_errors;
      continue;
    }
    if (!via_proxy_) {
      on_upstream_message(receive_buffer_.first(*got));
      continue;
    }
    if (auto message = unwrap_proxied(receive_buffer_.first(*got))) on_upstream_message(*message);
  }
}

std::optional<wire::MutableBytes> DnsUpstreamQuery::unwrap_proxied(wire::MutableBytes datagram) {
  const io::Endpoint& upstream = context_.config().dns_upstreams[upstream_];
  auto parsed = wire::parse_socks5_udp(datagram);
  if (!parsed || parsed->peer.address != upstream.address || parsed->peer.port != upstream.port) {
    ++context_.counters().proxy_udp_bad_datagrams;
    return std::nullopt;
  }
  const auto offset = static_cast<std::size_t>(parsed->payload.data() - datagram.data());
  return datagram.subspan(offset, parsed->payload.size());
}

void DnsUpstreamQuery::write_tcp() {
  while (tcp_sent_ < tcp_out_.size()) {
    auto sent = io::send_some(socket_.get(), wire::Bytes{tcp_out_}.subspan(tcp_sent_));
    if (sent.would_block()) return;
    if (!sent) {
      ++context_.counters().dns_upstream_errors;
      return fail_over();
    }
    tcp_sent_ += *sent;
  }
}

void DnsUpstreamQuery::read_tcp() {
  while (true) {
    // The length first, then exactly the message: a TCP upstream may keep
    // the connection open for more queries (RFC 7766 6.2.1).
    std::size_t wanted = kLengthPrefix;
    if (tcp_in_.size() >= kLengthPrefix) {
      const std::size_t length = wire::load_be16(tcp_in_.data());
      if (length == 0) {
        ++context_.counters().dns_upstream_errors;
        return fail_over();
      }
      wanted += length;
      if (tcp_in_.size() == wanted)
        return on_upstream_message(wire::MutableBytes{tcp_in_}.subspan(kLengthPrefix));
    }
    const std::size_t have = tcp_in_.size();
    tcp_in_.resize(have + std::min(wanted - have, kTcpReadChunk));
    auto got = io::recv_some(socket_.get(), wire::MutableBytes{tcp_in_}.subspan(have));
    tcp_in_.resize(have + (got ? *got : 0));
    if (got.would_block()) return;
    if (!got || *got == 0) {
      // Reset, or closed before the whole answer.
      ++context_.counters().dns_upstream_errors;
      return fail_over();
    }
  }
}

void DnsUpstreamQuery::on_upstream_message(wire::MutableBytes message) {
  auto answer = wire::parse_dns_message(message);
  if (!answer || !answer->response || answer->id != wire::dns_id(query_) ||
      !wire::same_dns_question(query_, parsed_, message, *answer)) {
    // Not the answer to this attempt (garbage, a late or forged one). Over
    // UDP the real one may still come; a TCP stream is not trusted further.
    ++context_.counters().dns_upstream_errors;
    if (transport_ == Transport::Tcp) fail_over();
    return;
  }
  if (answer->truncated && asker_ == Asker::Tcp && transport_ == Transport::Udp) {
    ++context_.counters().dns_tcp_retries;
    end_attempt();
    return attempt(Transport::Tcp);
  }
  if (proxy_udp_timed_out_ && via_proxy_ && transport_ == Transport::Tcp) {
    // The upstream answers through the proxy, only not over its UDP.
    const bool known = health_.udp_blocked_until && context_.now() < *health_.udp_blocked_until;
    health_.udp_blocked_until = context_.now() + ProxyUdpHealth::kProxyUdpRetryAfter;
    ++context_.counters().dns_proxy_udp_silent;
    if (!known)
      log::info("dns: UDP through the proxy {} goes unanswered while TCP through it works: DNS "
                "goes over TCP through it for the next {} minutes",
                context_.config().proxy->to_string(), ProxyUdpHealth::kProxyUdpRetryAfter.count());
  }
  ++context_.counters().dns_answers;
  finish(message);
}

void DnsUpstreamQuery::finish_with_server_failure() {
  ++context_.counters().dns_server_failures;
  std::array<std::uint8_t, wire::kDnsMaxQuestionEnd> answer;
  const std::size_t size = wire::write_dns_server_failure(answer, query_, parsed_);
  finish(wire::MutableBytes{answer}.first(size));
}

void DnsUpstreamQuery::finish(wire::MutableBytes answer) {
  end_attempt();
  finished_ = true;
  std::array<std::uint8_t, wire::kDnsMaxQuestionEnd> truncated;
  if (asker_ == Asker::Udp && transport_ == Transport::Tcp &&
      answer.size() > wire::kDnsClassicUdpMessage) {
    // A UDP asker answered over TCP (through the proxy): more than any
    // asker surely takes in a datagram, so TC and it asks over TCP.
    if (auto parsed = wire::parse_dns_message(answer)) {
      ++context_.counters().dns_truncated_for_udp;
      answer = wire::MutableBytes{truncated}.first(
          wire::write_dns_truncated(truncated, answer, *parsed));
    }
  }
  wire::set_dns_id(answer, parsed_.id);
  auto done = std::move(done_);
  done(answer);
}

}  // namespace rtether::relay
