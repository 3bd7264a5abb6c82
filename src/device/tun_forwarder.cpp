// Packet pump between the tun and the relay stream; see tun_forwarder.hpp.
#include "device/tun_forwarder.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "device/unique_fd.hpp"
#include "io/log.hpp"
#include "wire/ip_packet.hpp"
#include "wire/stream_framer.hpp"

namespace rtether::device {
namespace {

// Room for a full batch of the largest packets a tun can hand us: a read
// needs kMaxPacket free bytes or the kernel truncates the packet.
constexpr std::size_t kUplinkBufferSize = 1024 * 1024;
static_assert(kUplinkBufferSize >= 2 * wire::kMaxPacket);

// Waits until fd is readable (true) or cancel/done fires (false).
bool wait_readable(int fd, int cancel_fd, int done_fd) {
  for (;;) {
    pollfd fds[3] = {{fd, POLLIN, 0}, {cancel_fd, POLLIN, 0}, {done_fd, POLLIN, 0}};
    nfds_t count = done_fd >= 0 ? 3 : 2;
    if (poll(fds, count, -1) < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (fds[1].revents != 0 || (count == 3 && fds[2].revents != 0)) return false;
    if (fds[0].revents != 0) return true;
  }
}

bool cancelled(int cancel_fd) {
  pollfd fd{cancel_fd, POLLIN, 0};
  return poll(&fd, 1, 0) > 0;
}

// Blocking send of the whole buffer; false on error (errno kept).
bool send_all(int fd, const std::uint8_t* data, std::size_t size) {
  while (size > 0) {
    ssize_t sent = send(fd, data, size, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += sent;
    size -= static_cast<std::size_t>(sent);
  }
  return true;
}

}  // namespace

TunForwarder::TunForwarder(int tun_fd)
    : tun_fd_(tun_fd), uplink_buffer_(new std::uint8_t[kUplinkBufferSize]) {
  int flags = fcntl(tun_fd_, F_GETFL);
  if (flags < 0 || fcntl(tun_fd_, F_SETFL, flags | O_NONBLOCK) < 0) {
    throw std::runtime_error(std::string("tun: cannot make non-blocking: ") + std::strerror(errno));
  }
}

TunForwarder::~TunForwarder() = default;

SessionEnd TunForwarder::run(int stream_fd, int cancel_fd) {
  UniqueFd session_done(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!session_done.valid()) {
    return {SessionEnd::Reason::StreamError, std::string("eventfd: ") + std::strerror(errno)};
  }
  SessionEnd up_end;
  std::thread up([&] {
    up_end = uplink(stream_fd, cancel_fd, session_done.get());
    // Wakes the downlink out of recv()/poll() with end of stream.
    shutdown(stream_fd, SHUT_RDWR);
  });
  SessionEnd down_end = downlink(stream_fd, cancel_fd);
  eventfd_write(session_done.get(), 1);
  // Wakes the uplink if it is stuck in send() to a relay that stopped reading.
  shutdown(stream_fd, SHUT_RDWR);
  up.join();
  // The direction that failed first explains the end; the other one only
  // saw the shutdown that followed.
  if (down_end.reason == SessionEnd::Reason::RelayClosed &&
      up_end.reason != SessionEnd::Reason::Cancelled &&
      up_end.reason != SessionEnd::Reason::RelayClosed) {
    return up_end;
  }
  return down_end;
}

SessionEnd TunForwarder::uplink(int stream_fd, int cancel_fd, int session_done_fd) {
  std::uint8_t* buffer = uplink_buffer_.get();
  for (;;) {
    std::size_t used = 0;
    int packets = 0;
    // Drain what the tun has queued, within the batch and buffer budget.
    while (packets < kUplinkBatch && kUplinkBufferSize - used >= wire::kMaxPacket) {
      ssize_t n = read(tun_fd_, buffer + used, kUplinkBufferSize - used);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) break;
        return {SessionEnd::Reason::TunError, std::string("tun read: ") + std::strerror(errno)};
      }
      used += static_cast<std::size_t>(n);
      ++packets;
    }
    if (used == 0) {
      if (!wait_readable(tun_fd_, cancel_fd, session_done_fd)) {
        return {SessionEnd::Reason::Cancelled, "stopped"};
      }
      continue;
    }
    if (!send_all(stream_fd, buffer, used)) {
      if (errno == EPIPE || errno == ECONNRESET) {
        return {SessionEnd::Reason::RelayClosed, "relay closed the connection"};
      }
      return {SessionEnd::Reason::StreamError, std::string("send: ") + std::strerror(errno)};
    }
    counters_.packets_to_relay.fetch_add(static_cast<std::uint64_t>(packets),
                                         std::memory_order_relaxed);
    counters_.bytes_to_relay.fetch_add(used, std::memory_order_relaxed);
  }
}

SessionEnd TunForwarder::downlink(int stream_fd, int cancel_fd) {
  // A fresh framer per session: a new connection is a new stream.
  wire::StreamFramer framer;
  for (;;) {
    auto space = framer.writable();
    ssize_t n = recv(stream_fd, space.data(), space.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        if (!wait_readable(stream_fd, cancel_fd, -1)) {
          return {SessionEnd::Reason::Cancelled, "stopped"};
        }
        continue;
      }
      if (errno == ECONNRESET) return {SessionEnd::Reason::RelayClosed, "relay reset the connection"};
      return {SessionEnd::Reason::StreamError, std::string("recv: ") + std::strerror(errno)};
    }
    if (n == 0) {
      if (cancelled(cancel_fd)) return {SessionEnd::Reason::Cancelled, "stopped"};
      return {SessionEnd::Reason::RelayClosed, "relay closed the connection"};
    }
    framer.commit(static_cast<std::size_t>(n));
    while (auto packet = framer.next()) {
      if (write(tun_fd_, packet->data(), packet->size()) < 0) {
        // The kernel refused this packet (malformed, device down): the
        // stream itself is still in step, so drop it and go on.
        counters_.tun_write_drops.fetch_add(1, std::memory_order_relaxed);
        log::debug("tun write dropped a {}-byte packet: {}", packet->size(), std::strerror(errno));
        continue;
      }
      counters_.packets_to_tun.fetch_add(1, std::memory_order_relaxed);
      counters_.bytes_to_tun.fetch_add(packet->size(), std::memory_order_relaxed);
    }
    if (framer.failed()) {
      return {SessionEnd::Reason::FramingError,
              std::string("bad stream from relay: ") + wire::to_string(framer.error())};
    }
  }
}

}  // namespace rtether::device
