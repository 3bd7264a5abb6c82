// DnsUpstreamQuery: see dns_upstream_query.hpp.
#include "relay/dns_upstream_query.hpp"

#include <algorithm>
#include <array>

#include "io/log.hpp"
#include "relay/dns_upstream.hpp"

namespace rtether::relay {

namespace {
constexpr std::size_t kLengthPrefix = 2;  // RFC 1035 4.2.2
// The answer buffer grows by this much per read, up to the message's length.
constexpr std::size_t kTcpReadChunk = 4096;
}  // namespace

DnsUpstreamQuery::DnsUpstreamQuery(FlowContext& context, wire::Bytes query,
                                   const wire::DnsMessage& parsed, Asker asker,
                                   wire::MutableBytes receive_buffer, Done done)
    : context_(context),
      query_(query.begin(), query.end()),
      parsed_(parsed),
      asker_(asker),
      receive_buffer_(receive_buffer),
      done_(std::move(done)),
      timer_(context.loop(), [this] { on_timeout(); }) {}

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
  tcp_out_.resize(kLengthPrefix + query_.size());
  wire::store_be16(tcp_out_.data(), static_cast<std::uint16_t>(query_.size()));
  std::copy(query_.begin(), query_.end(), tcp_out_.begin() + kLengthPrefix);
  tcp_sent_ = 0;
  tcp_in_.clear();
  connecting_ = connection->in_progress;
  context_.loop().add(socket_.get(), io::Interest::ReadWrite, io::Trigger::Edge, this);
  if (!connecting_) write_tcp();
}

void DnsUpstreamQuery::fail_over() {
  end_attempt();
  if (++upstream_ >= context_.config().dns_upstreams.size()) return finish_with_server_failure();
  ++context_.counters().dns_failovers;
  attempt(Transport::Udp);
}

void DnsUpstreamQuery::end_attempt() {
  timer_.cancel();
  if (!socket_.valid()) return;
  context_.loop().remove(socket_.get());
  socket_.reset();
}

void DnsUpstreamQuery::on_timeout() {
  if (finished_) return;
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
      ++context_.counters().dns_upstream_errors;
      log::debug("dns: TCP connect to {} failed: {}",
                 to_string(context_.config().dns_upstreams[upstream_]), error.message());
      return fail_over();
    }
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
    on_upstream_message(receive_buffer_.first(*got));
  }
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
  wire::set_dns_id(answer, parsed_.id);
  auto done = std::move(done_);
  done(answer);
}

}  // namespace rtether::relay
