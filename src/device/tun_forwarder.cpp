// Packet pump between the tun and the relay stream; see tun_forwarder.hpp.
#include "device/tun_forwarder.hpp"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "io/socket.hpp"
#include "io/log.hpp"
#include "wire/ip_packet.hpp"
#include "wire/stream_framer.hpp"

namespace rtether::device {
namespace {

// Interrupts the uplink's blocking tun read (EINTR) when the session ends.
const int kWakeSignal = SIGRTMIN;
// How often the wake signal is repeated until the uplink has seen it: a
// signal sent just before the thread enters read() would otherwise be lost.
constexpr int kWakeRetryMs = 10;
constexpr int kWakeAttempts = 1000;  // 10 s, far past any read in progress

// The version is the high nibble of an IP packet's first byte (RFC 791 3.1).
constexpr unsigned kIpv4Version = 4;

void on_wake_signal(int) {}

void install_wake_handler() {
  static const bool installed = [] {
    struct sigaction action {};
    action.sa_handler = on_wake_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: the blocked read must return EINTR
    sigaction(kWakeSignal, &action, nullptr);
    return true;
  }();
  (void)installed;
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
    : tun_fd_(-1), uplink_buffer_(new std::uint8_t[wire::kMaxPacket]) {
  if (tun_fd >= 0) set_tun(tun_fd);
  install_wake_handler();
}

void TunForwarder::set_tun(int tun_fd) {
  if (auto error = io::set_nonblocking(tun_fd, false))
    throw std::runtime_error("tun: cannot make blocking: " + error.message());
  tun_fd_ = tun_fd;
}

TunForwarder::~TunForwarder() = default;

SessionEnd TunForwarder::run(int stream_fd, int cancel_fd) {
  io::Fd direction_done(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!direction_done.valid()) {
    return {SessionEnd::Reason::StreamError, std::string("eventfd: ") + std::strerror(errno)};
  }
  stopping_.store(false);
  SessionEnd up_end, down_end;
  std::atomic<bool> up_finished{false};
  std::thread up([&] {
    up_end = uplink(stream_fd);
    up_finished.store(true);
    eventfd_write(direction_done.get(), 1);
  });
  std::thread down([&] {
    down_end = downlink(stream_fd);
    eventfd_write(direction_done.get(), 1);
  });

  // This thread only waits for the end: a stop signal or either direction.
  bool cancelled = false;
  for (;;) {
    pollfd fds[2] = {{cancel_fd, POLLIN, 0}, {direction_done.get(), POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    cancelled = fds[0].revents != 0;
    break;
  }
  stopping_.store(true);
  // Wakes the downlink out of recv() and the uplink out of send().
  shutdown(stream_fd, SHUT_RDWR);
  for (int attempt = 0; attempt < kWakeAttempts && !up_finished.load(); ++attempt) {
    pthread_kill(up.native_handle(), kWakeSignal);
    pollfd none{-1, 0, 0};
    poll(&none, 1, kWakeRetryMs);
  }
  up.join();
  down.join();
  if (cancelled) return {SessionEnd::Reason::Cancelled, "stopped"};
  // A direction woken by the shutdown above reports Cancelled: the other one
  // ended on its own and explains the end; when both did, an error says
  // more than "relay closed".
  using Reason = SessionEnd::Reason;
  if (up_end.reason == Reason::Cancelled) return down_end;
  if (down_end.reason == Reason::Cancelled) return up_end;
  return down_end.reason == Reason::RelayClosed ? up_end : down_end;
}

SessionEnd TunForwarder::uplink(int stream_fd) {
  // One packet per read (a tun read is exactly one packet) and one send per
  // packet: blocking calls cost two syscalls per packet and no wake-ups.
  std::uint8_t* buffer = uplink_buffer_.get();
  while (!stopping_.load(std::memory_order_relaxed)) {
    ssize_t n = read(tun_fd_, buffer, wire::kMaxPacket);
    if (n < 0) {
      if (errno == EINTR) continue;
      return {SessionEnd::Reason::TunError, std::string("tun read: ") + std::strerror(errno)};
    }
    if (!ipv6_ && (n == 0 || buffer[0] >> 4 != kIpv4Version)) {
      counters_.non_ipv4_drops.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (!send_all(stream_fd, buffer, static_cast<std::size_t>(n))) {
      if (stopping_.load()) break;
      if (errno == EPIPE || errno == ECONNRESET) {
        return {SessionEnd::Reason::RelayClosed, "relay closed the connection"};
      }
      return {SessionEnd::Reason::StreamError, std::string("send: ") + std::strerror(errno)};
    }
    counters_.packets_to_relay.fetch_add(1, std::memory_order_relaxed);
    counters_.bytes_to_relay.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
  }
  return {SessionEnd::Reason::Cancelled, "stopped"};
}

SessionEnd TunForwarder::downlink(int stream_fd) {
  // A fresh framer per session: a new connection is a new stream.
  wire::StreamFramer framer;
  for (;;) {
    auto space = framer.writable();
    ssize_t n = recv(stream_fd, space.data(), space.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (stopping_.load()) return {SessionEnd::Reason::Cancelled, "stopped"};
      if (errno == ECONNRESET) return {SessionEnd::Reason::RelayClosed, "relay reset the connection"};
      return {SessionEnd::Reason::StreamError, std::string("recv: ") + std::strerror(errno)};
    }
    if (n == 0) {
      if (stopping_.load()) return {SessionEnd::Reason::Cancelled, "stopped"};
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
