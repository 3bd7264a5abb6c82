// TunForwarder: moves packets between the tun and one relay stream.
//
// Why two threads with blocking I/O and not one epoll loop: the two
// directions share no state (the stream carries raw packets, no per-flow
// bookkeeping on the device), so each gets a core of its own, and blocking
// calls wait and move data in one syscall: the uplink reads one packet from
// the tun and sends it (two syscalls per packet, no poll, no EAGAIN round
// trip, which matters for small request/response traffic); the downlink
// reads up to the framer's free space in one recv() and writes each packet
// to the tun (a tun write is exactly one packet).
//
// Lifecycle of run(): starts both direction threads and waits on cancel_fd
// and on either direction ending (relay closed, socket or framing error).
// Then it shuts the stream down (waking recv() and send()) and interrupts the
// uplink's blocking tun read with a signal (SIGRTMIN, handled without
// SA_RESTART). The tun survives, so the caller can reconnect and run() again.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace rtether::device {

struct SessionEnd {
  enum class Reason { RelayClosed, StreamError, FramingError, TunError, Cancelled };
  Reason reason = Reason::RelayClosed;
  std::string detail;  // one line for the log
};

struct ForwarderCounters {
  std::atomic<std::uint64_t> packets_to_relay{0};
  std::atomic<std::uint64_t> bytes_to_relay{0};
  std::atomic<std::uint64_t> packets_to_tun{0};
  std::atomic<std::uint64_t> bytes_to_tun{0};
  std::atomic<std::uint64_t> tun_write_drops{0};  // the kernel refused a packet
  std::atomic<std::uint64_t> non_ipv4_drops{0};   // uplink, IPv6 off (set_ipv6)
};

class TunForwarder {
 public:
  // tun_fd is switched to blocking; it stays owned by the caller. -1: none
  // yet (set_tun before run).
  explicit TunForwarder(int tun_fd);
  ~TunForwarder();
  TunForwarder(const TunForwarder&) = delete;
  TunForwarder& operator=(const TunForwarder&) = delete;

  // Forwards between the tun and stream_fd (a connected blocking stream
  // socket, past the client id) until the session ends; see above.
  SessionEnd run(int stream_fd, int cancel_fd);

  // Switches to another tun between sessions (a UI opened a new one); the
  // counters go on. Throws std::runtime_error if the fd is unusable.
  void set_tun(int tun_fd);
  int tun_fd() const { return tun_fd_; }
  // With IPv6 off the uplink drops every packet that is not IPv4 before it
  // reaches the stream, counted in non_ipv4_drops, as Gnirehtet's app does:
  // Gnirehtet's relay reads any packet's bytes 2-3 as an IPv4 length and
  // loses the stream at the first IPv6 one. On by default; set it between
  // sessions.
  void set_ipv6(bool enabled) { ipv6_ = enabled; }

  const ForwarderCounters& counters() const { return counters_; }

 private:
  SessionEnd uplink(int stream_fd);
  SessionEnd downlink(int stream_fd);

  int tun_fd_;
  std::unique_ptr<std::uint8_t[]> uplink_buffer_;
  ForwarderCounters counters_;
  bool ipv6_ = true;
  std::atomic<bool> stopping_{false};
};

}  // namespace rtether::device
