// PacketLink: see packet_link.hpp.
#include "device/packet_link.hpp"

#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "wire/checksum.hpp"
#include "wire/field.hpp"
#include "wire/ip_packet.hpp"
#include "wire/packet_builder.hpp"

namespace rtether::device {

namespace {
// The descriptor itself is gone or unusable: no later packet can pass either.
bool link_failed(int error) { return error == EBADF || error == EBADFD || error == EPIPE; }

// struct virtio_net_hdr (virtio 1.x 5.1.6, <linux/virtio_net.h>, which C++
// cannot include: a member there is named `class`), in the host's byte
// order (a tun's legacy virtio header, unless TUNSETVNETLE/BE said
// otherwise).
struct VnetHeader {
  std::uint8_t flags;
  std::uint8_t gso_type;
  std::uint16_t header_length;
  std::uint16_t gso_size;
  std::uint16_t checksum_start;   // where the sum starts
  std::uint16_t checksum_offset;  // where in it the result goes
};
static_assert(sizeof(VnetHeader) == 10);
constexpr std::uint8_t kVnetNeedsChecksum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
constexpr std::uint8_t kVnetNoSegmentation = 0;  // VIRTIO_NET_HDR_GSO_NONE

// The header size of a tun with IFF_VNET_HDR (TUNGETVNETHDRSZ: 10 unless
// set otherwise), 0 for any other descriptor (not a tun, or one without).
std::size_t vnet_header_size(int fd) {
  ifreq request{};
  if (ioctl(fd, TUNGETIFF, &request) < 0 || !(request.ifr_flags & IFF_VNET_HDR)) return 0;
  int size = 0;
  if (ioctl(fd, TUNGETVNETHDRSZ, &size) < 0 || size < static_cast<int>(sizeof(VnetHeader))) {
    throw std::runtime_error("packet link: the tun's virtio-net header size is unusable");
  }
  return static_cast<std::size_t>(size);
}

// The largest header a tun takes (TUNSETVNETHDRSZ: the mergeable-buffers
// form, 12 bytes, or any size set); this link writes at most this much.
constexpr std::size_t kMaxVnetHeader = 64;

// The virtio-net header for `packet`, a whole one from the session's
// queue: NEEDS_CSUM where its TCP or UDP checksum is left to complete
// (wire::partial_checksum_of), else no flag (its checksum is whole, or it
// is ICMP).
VnetHeader vnet_header_for(wire::Bytes packet) {
  VnetHeader header{};
  header.gso_type = kVnetNoSegmentation;
  if (auto partial = wire::partial_checksum_of(packet)) {
    header.flags = kVnetNeedsChecksum;
    header.checksum_start = partial->start;
    header.checksum_offset = partial->field;
  }
  return header;
}
}  // namespace

PacketLink::PacketLink(io::Fd fd, relay::QueueSlot queue)
    : fd_(std::move(fd)), queue_(queue), header_size_(vnet_header_size(fd_.get())) {
  if (header_size_ > kMaxVnetHeader) {
    throw std::runtime_error("packet link: the tun's virtio-net header is too large (" +
                             std::to_string(header_size_) + " bytes)");
  }
  buffer_ = std::make_unique_for_overwrite<std::uint8_t[]>(header_size_ + wire::kMaxPacket);
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
    const ssize_t got = ::read(fd_.get(), buffer_.get(), header_size_ + wire::kMaxPacket);
    if (got < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return {Status::Drained};
      if (errno == EINTR) continue;
      return {Status::Failed, "device link error", std::strerror(errno)};
    }
    if (got == 0) return {Status::Ended, "device link closed"};
    // Behind the virtio-net header (the kernel always writes it whole).
    // What follows is handed on as any packet: a short or empty one is
    // the session's to count as malformed.
    const std::size_t length = static_cast<std::size_t>(got);
    const std::size_t skip = std::min(header_size_, length);
    if (!sink.on_packet(wire::Bytes{buffer_.get() + skip, length - skip})) {
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
    ssize_t wrote;
    if (header_size_ == 0) {
      wrote = ::write(fd_.get(), rest.data(), length.length);
    } else {
      // The header (zeros past VnetHeader, for a larger size set on the
      // tun), then the packet: one writev, one packet.
      std::array<std::uint8_t, kMaxVnetHeader> header{};
      const VnetHeader fields = vnet_header_for(rest.first(length.length));
      std::memcpy(header.data(), &fields, sizeof fields);
      std::array<iovec, 2> parts{iovec{header.data(), header_size_},
                                 iovec{const_cast<std::uint8_t*>(rest.data()), length.length}};
      wrote = ::writev(fd_.get(), parts.data(), static_cast<int>(parts.size()));
    }
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
