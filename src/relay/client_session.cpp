// ClientSession: framing and dispatch; see the header.
#include "relay/client_session.hpp"

#include "io/crypto.hpp"
#include "io/log.hpp"
#include "relay/address_map.hpp"
#include "relay/error_quote.hpp"
#include "relay/icmp_flow.hpp"
#include "relay/stream_link.hpp"
#include "relay/tcp_flow.hpp"
#include "relay/udp_flow.hpp"
#include "tcp/reset_reply.hpp"
#include "wire/icmp_error.hpp"
#include "wire/packet_builder.hpp"
#include "wire/secret_handshake.hpp"
#include "wire/transport.hpp"

namespace rtether::relay {

namespace {
// Said once per process: every ping would repeat it.
bool ping_forbidden_logged = false;
}  // namespace

ClientSession::ClientSession(io::EventLoop& loop, io::Fd socket, std::uint32_t id,
                             const RelayConfig& config, ClosedCallback on_closed,
                             std::string serial)
    : ClientSession(loop, std::make_unique<StreamLink>(std::move(socket)), id, config,
                    std::move(on_closed), std::move(serial)) {}

ClientSession::ClientSession(io::EventLoop& loop, std::unique_ptr<DeviceLink> link,
                             std::uint32_t id, const RelayConfig& config, ClosedCallback on_closed,
                             std::string serial)
    : loop_(loop),
      link_(std::move(link)),
      checksums_(link_->completes_checksums() ? wire::ChecksumMode::PseudoHeaderOnly
                                              : wire::ChecksumMode::Full),
      id_(id),
      config_(config),
      on_closed_(std::move(on_closed)),
      serial_(std::move(serial)),
      random_(std::random_device{}()),
      icmp_errors_(*this),
      // Forwarded flows start at a random relay-side port (of the 16384 in
      // 49152..65535).
      forwards_(*this, static_cast<std::uint16_t>(random_() % 16384), link_->queue()),
      dns_(*this),
      flows_(loop, config.max_flows_per_client),
      output_(loop, *link_, config, counters_, flows_,
              [this] { close("client socket error"); }),
      read_task_(loop, [this] { read_client(); }),
      secret_timer_(loop, [this] { on_secret_deadline(); }) {}

ClientSession::~ClientSession() {
  on_closed_ = nullptr;  // whoever destroys the session knows
  close("session destroyed");
}

void ClientSession::start() {
  if (!link_->is_stream()) {
    loop_.add(link_->fd(), io::Interest::ReadWrite, io::Trigger::Edge, this);
    return;
  }
  namespace handshake = wire::secret_handshake;
  std::uint8_t first_bytes[handshake::kClientIdSize + handshake::kNonceSize];
  wire::store_be32(first_bytes, id_);
  std::size_t length = handshake::kClientIdSize;
  loop_.add(link_->fd(), io::Interest::ReadWrite, io::Trigger::Edge, this);
  if (!config_.secret.empty()) {
    std::uint8_t* nonce = first_bytes + handshake::kClientIdSize;
    if (auto error = io::random_bytes({nonce, handshake::kNonceSize})) {
      log::error("client {}: no random nonce for the secret handshake: {}", id_, error.message());
      return close("no random nonce");
    }
    start_secret_check(nonce);
    length += handshake::kNonceSize;
  }
  // The socket is fresh: its send buffer takes these few bytes at once.
  io::send_some(link_->fd(), wire::Bytes{first_bytes, length});
}

void ClientSession::start_secret_check(std::uint8_t* nonce) {
  namespace handshake = wire::secret_handshake;
  auto expected = io::hmac_sha256(
      config_.secret, handshake::answered_message(id_, wire::Bytes{nonce, handshake::kNonceSize}));
  secret_check_.emplace(expected, loop_.now() + config_.secret_timeout);
  secret_timer_.arm(secret_check_->deadline());
}

void ClientSession::on_secret_deadline() {
  if (closed_ || !secret_check_) return;
  secret_check_->on_deadline(loop_.now());
  if (secret_check_->state() != SecretCheck::State::TimedOut) return;
  ++counters_.secret_timeout;
  log::warn("client {}: no secret answer within {} ms, closing", id_,
            config_.secret_timeout.count());
  close("no secret answer in time");
}

bool ClientSession::read_secret_answer() {
  using State = SecretCheck::State;
  while (secret_check_->state() == State::Waiting) {
    std::uint8_t answer[wire::secret_handshake::kAnswerSize];
    const std::size_t wanted = secret_check_->missing();
    auto got = io::recv_some(link_->fd(), wire::MutableBytes{answer, wanted});
    if (got.would_block()) return false;
    if (!got) {
      close("client socket error");
      return false;
    }
    if (*got == 0) {
      ++counters_.secret_refused;
      close("client disconnected before the secret answer");
      return false;
    }
    secret_check_->feed(wire::Bytes{answer, *got}, loop_.refresh_now());
    // A short read drained the socket; the rest brings a new edge (none
    // after a hang-up: read on to the end of the stream).
    if (secret_check_->state() == State::Waiting && *got < wanted && !client_hung_up_)
      return false;
  }
  switch (secret_check_->state()) {
    case State::Passed:
      secret_timer_.cancel();
      log::info("client {}: secret answer accepted", id_);
      return true;
    case State::TimedOut:
      ++counters_.secret_timeout;
      break;
    default:
      ++counters_.secret_refused;
      log::warn("client {}: wrong secret answer, closing", id_);
      break;
  }
  close(to_string(secret_check_->state()));
  return false;
}

void ClientSession::on_ready(io::Readiness readiness) {
  if (closed_) return;
  if (readiness.writable) output_.on_writable();
  if (readiness.peer_done() || readiness.error) client_hung_up_ = true;
  if (readiness.readable_or_closed()) read_client();
}

void ClientSession::read_client() {
  if (closed_) return;
  if (!relaying() && !read_secret_answer()) return;
  using Status = LinkRead::Status;
  const LinkRead result = link_->read(*this, config_.client_read_budget, client_hung_up_);
  switch (result.status) {
    case Status::Drained:
    case Status::Stopped:
      return;
    case Status::BudgetUsed:
      // Data left: come back after other handlers ran (edge-triggered, so
      // no new event would tell us).
      read_task_.schedule();
      return;
    case Status::Ended:
      return close(result.reason);
    case Status::Failed:
      if (result.detail != nullptr) {
        log::warn("client {}: {} ({}), closing", id_, result.reason, result.detail);
      }
      return close(result.reason);
  }
}

bool ClientSession::on_packet(wire::Bytes packet) {
  handle_packet(packet);
  return !closed_;
}

void ClientSession::handle_packet(wire::Bytes bytes) {
  ++counters_.packets_from_device;
  counters_.bytes_from_device += bytes.size();
  auto parsed = wire::parse_ip(bytes);
  if (!parsed.packet) {
    ++counters_.drop_bad_ip;
    log::debug("client {}: dropped packet: {}", id_, wire::to_string(parsed.error));
    return;
  }
  const auto& packet = *parsed.packet;
  if (packet.fragment) {
    ++counters_.drop_fragment;
    return;
  }
  // The device's address for forwarded flows: the source of its packets,
  // once one has passed validation and is a unicast address of its own.
  forwards_.learn_device_source(packet.source);
  switch (packet.protocol) {
    case wire::ip_protocol::kTcp:
      return handle_tcp(packet);
    case wire::ip_protocol::kUdp:
      return handle_udp(packet);
    case wire::ip_protocol::kIcmp:
      if (packet.version == wire::IpVersion::V4) return handle_icmp(packet);
      ++counters_.drop_unknown_protocol;
      return;
    case wire::ip_protocol::kIcmpv6:
      if (packet.version == wire::IpVersion::V6) return handle_icmp(packet);
      ++counters_.drop_unknown_protocol;
      return;
    default:
      ++counters_.drop_unknown_protocol;
  }
}

void ClientSession::handle_tcp(const wire::IpPacket& packet) {
  auto tcp = wire::TcpView::parse(packet.payload);
  if (!tcp) {
    ++counters_.drop_bad_transport;
    return;
  }
  if (wire::is_broadcast_or_multicast(packet.destination)) {
    // RFC 1122 4.2.3.10: a SYN to a broadcast or multicast address is
    // discarded silently; no segment to one can belong to a connection, and
    // neither a reset nor an ICMP error may answer it.
    ++counters_.drop_tcp_not_unicast;
    return;
  }
  FlowKey key{packet.source, packet.destination, tcp->source_port(), tcp->destination_port(),
              wire::ip_protocol::kTcp};
  std::uint8_t flags = tcp->flags();
  bool bare_syn = (flags & (wire::tcp_flag::kSyn | wire::tcp_flag::kAck | wire::tcp_flag::kRst)) ==
                  wire::tcp_flag::kSyn;
  if (Flow* found = flows_.find(key)) {
    if (!bare_syn || !found->replaceable_by_syn()) return found->on_device_packet(packet);
    // The device reuses the 5-tuple of a connection in TIME-WAIT.
    found->shut_down();
  }

  // RFC 9293 3.10.7.1: only a bare SYN opens a connection; anything else for
  // an unknown connection is answered with a reset and creates no state.
  if (!bare_syn) {
    ++counters_.drop_no_flow;
    if (!(flags & wire::tcp_flag::kRst)) send_stateless_reset(packet);
    return;
  }
  if (refuses_destination(packet.destination)) {
    send_stateless_reset(packet);
    return;
  }
  if (!flows_.has_room()) {
    ++counters_.drop_flow_limit;
    send_stateless_reset(packet);
    return;
  }
  // DNS over TCP to the relay's resolver: the flow is bridged to the DNS
  // forwarder's listener instead of the host's 10.0.2.3.
  std::optional<io::Endpoint> dns_target;
  if (DnsForwarder::is_resolver(key.destination, key.destination_port)) {
    dns_target = dns_.tcp_endpoint();
    if (!dns_target) {
      ++counters_.tcp_connect_failed;
      send_stateless_reset(packet);
      return;
    }
  }
  auto& flow = static_cast<TcpFlow&>(
      flows_.insert(std::make_unique<TcpFlow>(context(), key, tcp::Segment::from(*tcp))));
  ++counters_.tcp_flows_opened;
  if (dns_target) return flow.connect(*dns_target, io::Outbound{});
  flow.connect();
}

void ClientSession::handle_udp(const wire::IpPacket& packet) {
  auto udp = wire::UdpView::parse(packet.payload);
  if (!udp) {
    ++counters_.drop_bad_transport;
    return;
  }
  if (DnsForwarder::is_resolver(packet.destination, udp->destination_port()))
    return dns_.on_udp_query(packet, *udp);
  FlowKey key{packet.source, packet.destination, udp->source_port(), udp->destination_port(),
              wire::ip_protocol::kUdp};
  Flow* found = flows_.find(key);
  if (!found) {
    if (refuses_destination(packet.destination)) {
      icmp_errors_.answer(packet, wire::IcmpErrorKind::AdminProhibited);
      return;
    }
    if (!flows_.has_room()) {
      ++counters_.drop_flow_limit;
      return;
    }
    // A proxy without UDP (HTTP CONNECT) and --proxy-udp drop: nothing
    // leaves the host outside the proxy, and the device learns so at once.
    if (config_.proxy && !config_.proxy->carries_udp() && config_.proxy_udp == ProxyUdp::Drop) {
      ++counters_.proxy_udp_dropped;
      icmp_errors_.answer(packet, wire::IcmpErrorKind::AdminProhibited);
      return;
    }
    auto flow = std::make_unique<UdpFlow>(context(), key);
    if (auto error = flow->open()) {
      // No route (connect() of a datagram socket routes): tell the device
      // as a router would; the datagram is lost either way.
      ++counters_.drop_udp_send;
      auto kind = icmp_error_for(error);
      if (kind && *kind != wire::IcmpErrorKind::PacketTooBig) icmp_errors_.answer(packet, *kind);
      return;
    }
    ++counters_.udp_flows_opened;
    found = &flows_.insert(std::move(flow));
  }
  found->on_device_packet(packet);
}

void ClientSession::handle_icmp(const wire::IpPacket& packet) {
  auto icmp = wire::IcmpView::parse(packet.payload);
  if (!icmp) {
    ++counters_.drop_bad_transport;
    return;
  }
  const std::uint8_t request = packet.version == wire::IpVersion::V4
                                   ? wire::icmp_type::kEchoRequest
                                   : wire::icmp_type::kV6EchoRequest;
  // Echo replies, errors about relay packets, neighbour discovery, ...: the
  // relay has no use for them.
  if (icmp->type() != request || icmp->code() != 0) {
    ++counters_.drop_icmp_unsupported;
    return;
  }
  FlowKey key{packet.source, packet.destination, icmp->echo_identifier(), 0, packet.protocol};
  Flow* found = flows_.find(key);
  if (!found) {
    if (refuses_destination(packet.destination)) {
      icmp_errors_.answer(packet, wire::IcmpErrorKind::AdminProhibited);
      return;
    }
    if (!flows_.has_room()) {
      ++counters_.drop_flow_limit;
      return;
    }
    auto flow = std::make_unique<IcmpFlow>(context(), key);
    if (auto error = flow->open()) return refuse_icmp_echo(packet, error);
    ++counters_.icmp_flows_opened;
    found = &flows_.insert(std::move(flow));
  }
  found->on_device_packet(packet);
}

void ClientSession::refuse_icmp_echo(const wire::IpPacket& packet, const std::error_code& error) {
  auto kind = icmp_error_for(error);
  // Permission denied is ping_group_range without CAP_NET_RAW
  // (io::open_ping_socket).
  if (error == std::errc::permission_denied) {
    ++counters_.drop_icmp_forbidden;
    if (!ping_forbidden_logged) {
      ping_forbidden_logged = true;
      log::warn("ping from devices is answered with \"administratively prohibited\": {}",
                io::ping_forbidden_advice());
    }
  } else {
    ++counters_.drop_icmp_send;
    log::debug("client {}: no ping socket to {}: {}", id_, packet.destination.to_string(),
               error.message());
  }
  if (kind) icmp_errors_.answer(packet, *kind);
}

bool ClientSession::refuses_destination(const wire::IpAddress& destination) {
  if (config_.host_loopback || !reaches_host_loopback(destination)) return false;
  ++counters_.drop_host_loopback;
  log::debug("client {}: refused {}: host loopback is off", id_, destination.to_string());
  return true;
}

void ClientSession::send_stateless_reset(const wire::IpPacket& packet) {
  auto tcp = wire::TcpView::parse(packet.payload);
  wire::TcpSegmentHeader header;
  header.source = packet.destination;
  header.destination = packet.source;
  header.source_port = tcp->destination_port();
  header.destination_port = tcp->source_port();
  const tcp::OutSegment reset = tcp::reset_reply(tcp::Segment::from(*tcp));
  header.seq = reset.seq.raw();
  header.ack = reset.ack.raw();
  header.flags = reset.flags;
  auto room = reserve(wire::tcp_header_size(header), true);
  if (room.empty()) return;
  commit(wire::write_tcp_headers(room, header, 0, checksums_));
}

wire::MutableBytes ClientSession::peek_scratch(std::size_t bytes) {
  if (peek_scratch_.size() < bytes) peek_scratch_.resize(bytes);
  return {peek_scratch_.data(), bytes};
}

std::size_t ClientSession::buffer_budget_left() const {
  return buffered_bytes_ >= config_.client_buffer_budget
             ? 0
             : config_.client_buffer_budget - buffered_bytes_;
}

void ClientSession::close(const char* reason) {
  if (closed_) return;
  closed_ = true;
  log::info("client {} closed ({}): {}", id_, reason, counters_.summary());
  loop_.remove(link_->fd());
  output_.close();
  dns_.close();
  flows_.close();
  link_.reset();
  // A plain deferred callback, not a DeferredTask: it destroys the session
  // and needs nothing of it.
  if (on_closed_) {
    auto callback = on_closed_;
    auto id = id_;
    loop_.defer([callback, id] { callback(id); });
  }
}

}  // namespace rtether::relay
