// PacketLink: see packet_link.hpp.
#include "device/packet_link.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "wire/ip_packet.hpp"

namespace rtether::device {

namespace {
// The descriptor itself is gone or unusable: no later packet can pass either.
bool link_failed(int error) { return error == EBADF || error == EBADFD || error == EPIPE; }
}  // namespace

PacketLink::PacketLink(io::Fd fd)
    : fd_(std::move(fd)),
      buffer_(std::make_unique_for_overwrite<std::uint8_t[]>(wire::kMaxPacket)) {
  if (auto error = io::set_nonblocking(fd_.get(), true)) {
    throw std::runtime_error("packet link: cannot make the descriptor non-blocking: " +
                             error.message());
  }
}

relay::LinkRead PacketLink::read(relay::PacketSink& sink, int budget, bool) {
  using Status = relay::LinkRead::Status;
  for (int reads = 0; reads < budget; ++reads) {
    // One read() is one packet; the buffer holds the largest IP packet, so
    // none is cut short. A packet link is drained only by EAGAIN: a short
    // read says nothing about what is queued behind it.
    const ssize_t got = ::read(fd_.get(), buffer_.get(), wire::kMaxPacket);
    if (got < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return {Status::Drained};
      if (errno == EINTR) continue;
      return {Status::Failed, "device link error", std::strerror(errno)};
    }
    if (got == 0) return {Status::Ended, "device link closed"};
    if (!sink.on_packet(wire::Bytes{buffer_.get(), static_cast<std::size_t>(got)})) {
      return {Status::Stopped};
    }
  }
  return {Status::BudgetUsed};
}

relay::LinkSend PacketLink::send(wire::Bytes queued) {
  relay::LinkSend result;
  while (result.consumed < queued.size()) {
    const wire::Bytes rest = queued.subspan(result.consumed);
    // The queue holds packets the relay built itself, whole and back to
    // back: each one's own header gives where the next starts.
    const wire::IpLengthResult length = wire::ip_packet_length(rest);
    if (length.error != wire::IpError::None || length.length == 0 ||
        length.length > rest.size()) {
      result.error = std::make_error_code(std::errc::invalid_argument);
      return result;
    }
    const ssize_t wrote = ::write(fd_.get(), rest.data(), length.length);
    if (wrote < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        result.blocked = true;
        return result;
      }
      if (link_failed(errno)) {
        result.error = std::error_code(errno, std::generic_category());
        return result;
      }
      // The kernel refused this one packet (the interface is down: EIO,
      // no memory: ENOMEM/ENOBUFS, a packet it finds malformed: EINVAL).
      ++result.refused;
    }
    result.consumed += length.length;
  }
  return result;
}

}  // namespace rtether::device
