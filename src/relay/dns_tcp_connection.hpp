// DnsTcpConnection: one DNS-over-TCP connection of the device to 10.0.2.3:53
// (or fd00::2:3), as the relay's side of it sees it. The device's TCP is a
// normal TcpFlow, connected to the forwarder's own loopback listener
// (dns_forwarder.hpp); this is the accepted end: it reads the 2-byte-length
// framed queries (RFC 1035 4.2.2, RFC 7766 8), hands each to the
// forwarder, and writes the answers back framed the same way, in the order
// they come (RFC 7766 7: answers may be out of order; the ID matches them).
//
// Bounded: one message of at most 2 + 65535 bytes is read at a time, and
// reading stops while more than kMaxPendingAnswers bytes of answers wait
// to be written (the device is not reading), so a pipelining device cannot
// grow the buffers. The connection ends when the device closes it after its
// last answer, on a reset, or when the forwarder closes.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "io/event_loop.hpp"
#include "io/socket.hpp"
#include "relay/deferred_task.hpp"
#include "wire/bytes.hpp"

namespace rtether::relay {

class DnsTcpConnection final : public io::Handler {
 public:
  // A framed message from the device (not yet checked as a DNS query);
  // true when it will be answered with send_answer() (perhaps from inside
  // the call), false when it was dropped.
  using Query = std::function<bool(DnsTcpConnection&, wire::Bytes message)>;
  using Closed = std::function<void(DnsTcpConnection&)>;

  DnsTcpConnection(io::EventLoop& loop, io::Fd socket, std::uint64_t serial, Query query,
                   Closed closed);
  ~DnsTcpConnection() override;
  DnsTcpConnection(const DnsTcpConnection&) = delete;
  DnsTcpConnection& operator=(const DnsTcpConnection&) = delete;

  void start();
  std::uint64_t serial() const { return serial_; }
  // The answer to one of the queries taken, written framed.
  void send_answer(wire::Bytes answer);
  // Closes the socket without calling `closed` (idempotent).
  void close();
  void on_ready(io::Readiness readiness) override;

 private:
  static constexpr std::size_t kMaxPendingAnswers = 64 * 1024;

  void read_queries();
  void write_answers();
  // Closes once the device said it is done and nothing is owed to it.
  void close_if_done();
  void close_and_tell();

  io::EventLoop& loop_;
  io::Fd socket_;
  std::uint64_t serial_;
  Query query_;
  Closed closed_;
  std::vector<std::uint8_t> in_;   // the message being read, its length first
  std::vector<std::uint8_t> out_;  // framed answers not yet written
  std::size_t answers_expected_ = 0;
  bool readable_ = false;
  bool peer_done_ = false;
  DeferredTask read_task_;  // read on after the budget or once answers drained
};

}  // namespace rtether::relay
