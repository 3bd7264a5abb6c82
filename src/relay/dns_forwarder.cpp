// DnsForwarder: see dns_forwarder.hpp.
#include "relay/dns_forwarder.hpp"

#include <system_error>

#include "io/log.hpp"
#include "wire/dns_message.hpp"
#include "wire/gnirehtet.hpp"
#include "wire/packet_builder.hpp"

namespace rtether::relay {

namespace {
constexpr int kListenBacklog = 64;  // as many as the connections it takes
}  // namespace

DnsForwarder::DnsForwarder(FlowContext& context)
    : context_(context),
      accept_(context.loop(), "dns", [this](io::Fd socket) { accept(std::move(socket)); }),
      reap_task_(context.loop(), [this] { reap(); }) {}

DnsForwarder::~DnsForwarder() { close(); }

bool DnsForwarder::is_resolver(const wire::IpAddress& address, std::uint16_t port) {
  return port == wire::gnirehtet::kDnsPort && (address == wire::gnirehtet::kResolverAliasV4 ||
                                               address == wire::gnirehtet::kResolverAliasV6);
}

void DnsForwarder::on_udp_query(const wire::IpPacket& packet, const wire::UdpView& udp) {
  if (closed_) return;
  auto message = udp.payload();
  submit(message, DnsUpstreamQuery::Asker::Udp,
         UdpAsker{packet.source, udp.source_port(), packet.destination}, 0);
}

bool DnsForwarder::submit(wire::Bytes message, DnsUpstreamQuery::Asker asker, const UdpAsker& udp,
                          std::uint64_t tcp_connection) {
  auto parsed = wire::parse_dns_query(message);
  if (!parsed) {
    ++context_.counters().dns_bad_queries;
    return false;
  }
  if (pending_.size() >= context_.config().max_dns_queries_per_client) {
    ++context_.counters().dns_drop_in_flight_limit;
    return false;
  }
  ++context_.counters().dns_queries;
  if (receive_buffer_.empty()) receive_buffer_.resize(wire::kDnsMaxMessage);
  const std::uint64_t ticket = next_ticket_++;
  auto query = std::make_unique<DnsUpstreamQuery>(
      context_, message, *parsed, asker, receive_buffer_, proxy_udp_health_,
      [this, ticket](wire::MutableBytes answer) { on_answer(ticket, answer); });
  auto& started = *query;
  pending_.emplace(ticket, Pending{std::move(query), udp, tcp_connection});
  started.start();
  return true;
}

void DnsForwarder::on_answer(std::uint64_t ticket, wire::MutableBytes answer) {
  auto found = pending_.find(ticket);
  if (found == pending_.end()) return;
  Pending pending = std::move(found->second);
  pending_.erase(found);
  finished_queries_.push_back(std::move(pending.query));
  reap_task_.schedule();
  if (pending.tcp_connection == 0) return send_udp_answer(pending.udp, answer);
  auto connection = connections_.find(pending.tcp_connection);
  if (connection == connections_.end()) {
    ++context_.counters().dns_drop_answer_lost;
    return;
  }
  connection->second->send_answer(answer);
}

void DnsForwarder::send_udp_answer(const UdpAsker& asker, wire::Bytes answer) {
  wire::UdpDatagramHeader header;
  header.source = asker.resolver;
  header.destination = asker.device;
  header.source_port = wire::gnirehtet::kDnsPort;
  header.destination_port = asker.device_port;
  auto room = context_.reserve(wire::udp_header_size(asker.device.version) + answer.size(), false);
  const std::size_t length = room.empty() ? 0 : wire::build_udp(room, header, answer, context_.checksums());
  if (length == 0) {
    ++context_.counters().dns_drop_answer_lost;
    return;
  }
  context_.commit(length);
}

std::optional<io::Endpoint> DnsForwarder::tcp_endpoint() {
  if (closed_) return std::nullopt;
  if (listener_endpoint_) return listener_endpoint_;
  try {
    listener_ = io::listen_tcp({wire::gnirehtet::kHostLoopbackV4, 0}, kListenBacklog);
  } catch (const std::system_error& error) {
    log::warn("dns: no TCP listener for the device's DNS over TCP: {}", error.what());
    return std::nullopt;
  }
  auto bound = io::local_endpoint(listener_.get());
  if (!bound) {
    log::warn("dns: TCP listener has no address: {}", bound.error().message());
    listener_.reset();
    return std::nullopt;
  }
  accept_.watch(listener_.get(), this);
  listener_endpoint_ = *bound;
  return listener_endpoint_;
}

void DnsForwarder::on_ready(io::Readiness) {
  if (closed_ || !listener_.valid()) return;
  accept_.accept();
}

void DnsForwarder::accept(io::Fd socket) {
  if (connections_.size() >= kMaxTcpConnections) {
    ++context_.counters().dns_drop_tcp_connection_limit;
    return;  // closed here: the device's connection ends
  }
  const std::uint64_t serial = next_connection_++;
  auto connection = std::make_unique<DnsTcpConnection>(
      context_.loop(), std::move(socket), serial,
      [this](DnsTcpConnection& from, wire::Bytes message) { return on_tcp_query(from, message); },
      [this](DnsTcpConnection& from) { on_tcp_closed(from); });
  auto& started = *connection;
  connections_.emplace(serial, std::move(connection));
  started.start();
}

bool DnsForwarder::on_tcp_query(DnsTcpConnection& connection, wire::Bytes message) {
  if (closed_) return false;
  return submit(message, DnsUpstreamQuery::Asker::Tcp, UdpAsker{}, connection.serial());
}

void DnsForwarder::on_tcp_closed(DnsTcpConnection& connection) {
  auto found = connections_.find(connection.serial());
  if (found == connections_.end()) return;
  closed_connections_.push_back(std::move(found->second));
  connections_.erase(found);
  reap_task_.schedule();
}

void DnsForwarder::reap() {
  finished_queries_.clear();
  closed_connections_.clear();
}

void DnsForwarder::close() {
  if (closed_) return;
  closed_ = true;
  for (auto& [ticket, pending] : pending_) pending.query->cancel();
  for (auto& [serial, connection] : connections_) connection->close();
  accept_.stop();
  listener_.reset();
}

}  // namespace rtether::relay
