// DnsTcpConnection: see dns_tcp_connection.hpp.
#include "relay/dns_tcp_connection.hpp"

#include <algorithm>

namespace rtether::relay {

namespace {
constexpr std::size_t kLengthPrefix = 2;  // RFC 1035 4.2.2
constexpr std::size_t kReadChunk = 4096;  // the message buffer grows by this much per read
constexpr int kReadBudget = 64;           // reads per wake-up; the rest waits for the next
}  // namespace

DnsTcpConnection::DnsTcpConnection(io::EventLoop& loop, io::Fd socket, std::uint64_t serial,
                                   Query query, Closed closed)
    : loop_(loop),
      socket_(std::move(socket)),
      serial_(serial),
      query_(std::move(query)),
      closed_(std::move(closed)),
      read_task_(loop, [this] { read_queries(); }) {}

DnsTcpConnection::~DnsTcpConnection() { close(); }

void DnsTcpConnection::start() {
  loop_.add(socket_.get(), io::Interest::ReadWrite, io::Trigger::Edge, this);
}

void DnsTcpConnection::close() {
  if (!socket_.valid()) return;
  loop_.remove(socket_.get());
  socket_.reset();
}

void DnsTcpConnection::close_and_tell() {
  close();
  auto closed = std::move(closed_);
  if (closed) closed(*this);
}

void DnsTcpConnection::on_ready(io::Readiness readiness) {
  if (!socket_.valid()) return;
  if (readiness.error) return close_and_tell();
  if (readiness.writable) write_answers();
  if (!socket_.valid()) return;
  if (readiness.readable_or_closed()) readable_ = true;
  read_queries();
}

void DnsTcpConnection::read_queries() {
  for (int reads = 0; readable_ && reads < kReadBudget; ++reads) {
    if (!socket_.valid() || out_.size() > kMaxPendingAnswers) return;
    std::size_t wanted = kLengthPrefix;
    if (in_.size() >= kLengthPrefix) wanted += wire::load_be16(in_.data());
    const std::size_t have = in_.size();
    in_.resize(have + std::min(wanted - have, kReadChunk));
    auto got = io::recv_some(socket_.get(), wire::MutableBytes{in_}.subspan(have));
    in_.resize(have + (got ? *got : 0));
    if (got.would_block()) {
      readable_ = false;
      return;
    }
    if (!got) return close_and_tell();
    if (*got == 0) {
      readable_ = false;
      peer_done_ = true;
      return close_if_done();
    }
    if (in_.size() < kLengthPrefix) continue;
    const std::size_t message = wire::load_be16(in_.data());
    if (in_.size() < kLengthPrefix + message) continue;
    // A whole message (an empty one too: the forwarder counts it as bad).
    // The forwarder copies what it keeps, so the buffer is reused for the
    // next one: cleared, its capacity kept (no allocation per message).
    ++answers_expected_;  // first: the answer can come from inside the call
    if (!query_(*this, wire::Bytes{in_}.subspan(kLengthPrefix))) --answers_expected_;
    in_.clear();
  }
  // Budget used up with data left: an edge-triggered socket gives no new
  // event for it, so read on in the next turn of the loop.
  if (readable_ && socket_.valid() && out_.size() <= kMaxPendingAnswers) read_task_.schedule();
}

void DnsTcpConnection::send_answer(wire::Bytes answer) {
  if (answers_expected_ > 0) --answers_expected_;
  if (!socket_.valid()) return;
  const std::size_t at = out_.size();
  out_.resize(at + kLengthPrefix + answer.size());
  wire::store_be16(out_.data() + at, static_cast<std::uint16_t>(answer.size()));
  std::copy(answer.begin(), answer.end(), out_.begin() + static_cast<long>(at + kLengthPrefix));
  write_answers();
  // Reading may have stopped for the answers' room; not from here, since an
  // answer can come from inside read_queries() (an immediate SERVFAIL).
  if (socket_.valid() && readable_) read_task_.schedule();
}

void DnsTcpConnection::write_answers() {
  std::size_t written = 0;
  while (written < out_.size()) {
    auto sent = io::send_some(socket_.get(), wire::Bytes{out_}.subspan(written));
    if (sent.would_block()) break;
    if (!sent) return close_and_tell();
    written += *sent;
  }
  out_.erase(out_.begin(), out_.begin() + static_cast<long>(written));
  close_if_done();
}

void DnsTcpConnection::close_if_done() {
  if (peer_done_ && answers_expected_ == 0 && out_.empty()) close_and_tell();
}

}  // namespace rtether::relay
