// IcmpFlow: see icmp_flow.hpp.
#include "relay/icmp_flow.hpp"

#include "io/log.hpp"
#include "io/ping_socket.hpp"
#include "relay/address_map.hpp"
#include "relay/flow_context.hpp"
#include "wire/transport.hpp"

namespace rtether::relay {

namespace {
// Largest ICMP message in an IPv4 packet (65535 - 20); an IPv6 reply of the
// same size fits the framer's 65535-byte packets too (40 + 65515).
constexpr std::size_t kMaxIcmpMessage = 65515;
}  // namespace

IcmpFlow::IcmpFlow(FlowContext& context, const FlowKey& key)
    : DatagramFlow(context, key, context.config().icmp_idle_timeout,
                   wire::ip_header_size(key.source.version), kMaxIcmpMessage) {}

std::error_code IcmpFlow::open() {
  io::Endpoint target{host_destination(key_.destination), 0};
  const auto& opener = context_.config().open_ping_socket;
  auto socket = opener ? opener(target) : io::open_ping_socket(target, context_.outbound());
  if (!socket) return socket.error();
  socket_ = std::move(socket->fd);
  echo_mode_ = socket->mode;
  watch_socket();
  return {};
}

void IcmpFlow::on_device_packet(const wire::IpPacket& packet) {
  if (retired_) return;
  auto icmp = wire::IcmpView::parse(packet.payload);
  if (!icmp) {
    ++context_.counters().drop_bad_transport;
    return;
  }
  touch();
  quote_.remember(packet);
  // The socket sets the identifier and the checksum itself.
  auto sent = io::send_echo(socket_.get(), echo_mode_, icmp->bytes());
  if (sent) return;
  ++context_.counters().drop_icmp_send;
  log::debug("{}: echo send failed: {}", key_.to_string(), sent.error().message());
  report_send_failure(context_, socket_.get(), key_, quote_, sent.error());
}

void IcmpFlow::on_ready(io::Readiness readiness) {
  if (retired_) return;
  if (readiness.error) report_host_errors(context_, socket_.get(), key_, quote_);
  if (readiness.readable) readable_ = true;
  pump();
}

io::Result<std::size_t> IcmpFlow::receive(wire::MutableBytes into) {
  return io::receive_echo(socket_.get(), echo_mode_, into);
}

std::size_t IcmpFlow::frame(wire::MutableBytes room, std::size_t length) {
  const wire::IpVersion version = key_.source.version;
  const std::uint8_t reply_type =
      version == wire::IpVersion::V4 ? wire::icmp_type::kEchoReply : wire::icmp_type::kV6EchoReply;
  const std::size_t ip_size = wire::ip_header_size(version);
  auto message = wire::IcmpView::parse(room.subspan(ip_size, length));
  if (!message || message->type() != reply_type) {
    ++context_.counters().drop_icmp_reply;
    return 0;
  }
  touch();
  wire::IcmpMessageHeader header;
  header.source = key_.destination;
  header.destination = key_.source;
  header.type = reply_type;
  header.code = message->code();
  header.rest = (std::uint32_t{key_.source_port} << 16) | message->echo_sequence();
  return wire::write_icmp_headers(room, header, message->payload().size());
}

}  // namespace rtether::relay
