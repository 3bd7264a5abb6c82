// PingSocket on Linux: a ping socket, else a raw ICMP socket; see
// ping_socket.hpp.
#include "io/ping_socket.hpp"

#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "io/linux/sockaddr.hpp"
#include "io/socket_errors.hpp"
#include "wire/checksum.hpp"
#include "wire/field.hpp"
#include "wire/transport.hpp"

namespace rtether::io {
namespace {

// Replies of other identifiers skipped per receive_echo call at most. The
// type filters leave only echo replies from the one destination, so these
// are other flows' (or other programs') replies: a few at a time.
constexpr int kMaxForeignReplies = 1024;

std::error_code last_error() { return {errno, std::generic_category()}; }

Result<std::size_t> transferred(ssize_t result) {
  if (result < 0) return last_error();
  return static_cast<std::size_t>(result);
}

// A counter, so raw echo sockets of this process carry distinct
// identifiers until 65536 more have been opened; it starts from the PID
// so two relays on one host seldom share one either.
std::uint16_t next_identifier() {
  static std::atomic<std::uint16_t> next{
      static_cast<std::uint16_t>(static_cast<unsigned>(::getpid()) * 2654435761u >> 16)};
  return next.fetch_add(1, std::memory_order_relaxed);
}

// Lets only echo replies through to the socket (ICMP_FILTER, raw(7);
// ICMP6_FILTER, RFC 3542 3.2): requests, errors and neighbour discovery
// never wake it. Errors for our requests still reach the error queue.
std::error_code pass_only_echo_replies(int fd, bool v4) {
  if (v4) {
    icmp_filter filter{};
    filter.data = ~(1u << wire::icmp_type::kEchoReply);
    if (::setsockopt(fd, SOL_RAW, ICMP_FILTER, &filter, sizeof filter) < 0) return last_error();
    return {};
  }
  icmp6_filter filter;
  ICMP6_FILTER_SETBLOCKALL(&filter);
  ICMP6_FILTER_SETPASS(wire::icmp_type::kV6EchoReply, &filter);
  if (::setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter) < 0)
    return last_error();
  return {};
}

std::error_code connect_to(int fd, const Endpoint& to) {
  sockaddr_storage storage;
  const socklen_t length = to_sockaddr(Endpoint{to.address, 0}, storage);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&storage), length) < 0) {
    // connect() says EACCES for a broadcast destination: keep that apart
    // from socket()'s EACCES (ping_group_range).
    const int error = errno;
    return {error == EACCES ? EPERM : error, std::generic_category()};
  }
  return {};
}

bool is_our_reply(wire::Bytes message, bool v4, std::uint16_t identifier) {
  if (message.size() < wire::kIcmpHeader) return false;
  const std::uint8_t reply = v4 ? wire::icmp_type::kEchoReply : wire::icmp_type::kV6EchoReply;
  if (wire::load(message.data(), wire::icmp_field::kType) != reply) return false;
  if (wire::load(message.data(), wire::icmp_field::kEchoIdentifier) != identifier) return false;
  // ICMPv6 raw sockets have the kernel check the checksum (RFC 3542 3.1).
  return !v4 || wire::internet_checksum(message) == 0;
}

// One IPv4 datagram from a raw socket, its ICMP message moved to the start
// of `into`: the message's length (more than into.size() when cut).
Result<std::size_t> receive_ipv4_message(int fd, wire::MutableBytes into) {
  // The usual 20-byte header lands apart; options, if any, at the start of
  // `into`, and are moved away below.
  std::uint8_t header[wire::kIpv4MinHeader];
  iovec parts[2] = {{header, sizeof header}, {into.data(), into.size()}};
  msghdr message{};
  message.msg_iov = parts;
  message.msg_iovlen = 2;
  auto got = transferred(::recvmsg(fd, &message, MSG_DONTWAIT | MSG_TRUNC));
  if (!got) return got;
  const std::size_t header_size =
      (wire::load(header, wire::ipv4_field::kVersionIhl) & wire::ipv4_field::kIhlMask) *
      wire::ipv4_field::kIhlUnit;
  if (*got < header_size || header_size < sizeof header) return std::size_t{0};
  const std::size_t options = header_size - sizeof header;
  const std::size_t in_buffer = std::min(*got - sizeof header, into.size());
  if (options > 0 && in_buffer > options) {
    std::memmove(into.data(), into.data() + options, in_buffer - options);
  }
  return *got - header_size;
}

}  // namespace

Result<PingSocket> open_ping_socket(const Endpoint& to, const Outbound& from) {
  const bool v4 = to.address.version == wire::IpVersion::V4;
  const int family = address_family(to.address.version);
  const int protocol = v4 ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6};
  PingSocket socket;
  socket.fd = Fd{::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol)};
  if (!socket.fd.valid()) {
    const std::error_code refused = last_error();
    if (refused != std::errc::permission_denied && refused != std::errc::operation_not_permitted)
      return refused;
    // ping_group_range leaves our group out: a raw socket needs CAP_NET_RAW,
    // and without it the ping socket's refusal is the one to report.
    socket.fd = Fd{::socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol)};
    if (!socket.fd.valid()) return refused;
    socket.mode.raw = true;
    socket.mode.identifier = next_identifier();
    socket.mode.v4 = v4;
    if (auto error = pass_only_echo_replies(socket.fd.get(), v4)) return error;
  }
  if (!from.empty())
    if (auto failed = apply_outbound(socket.fd.get(), to.address.version, from))
      return failed->error;
  enable_error_queue(socket.fd.get());
  // Connected: replies from other hosts never reach it, and the kernel
  // routes once.
  if (auto error = connect_to(socket.fd.get(), to)) return error;
  return socket;
}

const char* ping_forbidden_advice() {
  return "this host forbids unprivileged ICMP sockets and the relay has no CAP_NET_RAW for raw "
         "ones; allow the relay's group with sysctl net.ipv4.ping_group_range";
}

Result<std::size_t> send_echo(int fd, const EchoMode& mode, wire::Bytes request) {
  if (!mode.raw) {
    // The kernel sets the identifier and the checksum itself.
    return transferred(::send(fd, request.data(), request.size(), MSG_DONTWAIT | MSG_NOSIGNAL));
  }
  if (request.size() < wire::kIcmpHeader) return std::make_error_code(std::errc::invalid_argument);
  // The header is rewritten apart; the payload is sent from where it is.
  std::uint8_t header[wire::kIcmpHeader];
  std::memcpy(header, request.data(), sizeof header);
  wire::store(header, wire::icmp_field::kEchoIdentifier, mode.identifier);
  wire::store(header, wire::icmp_field::kChecksum, 0);
  const wire::Bytes payload = request.subspan(sizeof header);
  if (mode.v4) {
    // RFC 792: over the whole ICMP message. (ICMPv6 raw sockets have the
    // kernel write it, with the pseudo header, RFC 3542 3.1.)
    const std::uint64_t sum = wire::checksum_add(payload, wire::checksum_add(header));
    wire::store(header, wire::icmp_field::kChecksum,
                static_cast<std::uint16_t>(~wire::checksum_fold(sum)));
  }
  iovec parts[2] = {{header, sizeof header},
                    {const_cast<std::uint8_t*>(payload.data()), payload.size()}};
  msghdr message{};
  message.msg_iov = parts;
  message.msg_iovlen = 2;
  return transferred(::sendmsg(fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL));
}

Result<std::size_t> receive_echo(int fd, const EchoMode& mode, wire::MutableBytes into) {
  if (!mode.raw) return transferred(::recv(fd, into.data(), into.size(), MSG_DONTWAIT));
  const bool v4 = mode.v4;
  for (int skipped = 0; skipped < kMaxForeignReplies; ++skipped) {
    auto got = v4 ? receive_ipv4_message(fd, into)
                  : transferred(::recv(fd, into.data(), into.size(), MSG_DONTWAIT | MSG_TRUNC));
    if (!got) return got;
    if (*got > into.size()) {
      // Cut: the caller drops it whole; only the identifier says whose.
      if (into.size() >= wire::kIcmpHeader &&
          wire::load(into.data(), wire::icmp_field::kEchoIdentifier) == mode.identifier)
        return got;
      continue;
    }
    if (is_our_reply(into.first(*got), v4, mode.identifier)) return got;
  }
  // A flood of others' replies: the rest waits for the caller's next turn.
  return std::make_error_code(std::errc::interrupted);
}

}  // namespace rtether::io
