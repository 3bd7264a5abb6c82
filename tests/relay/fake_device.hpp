// FakeDevice: the device end of a client link, for engine tests. The relay's
// ClientSession owns one end of a loopback TCP connection; the test writes
// packets built with wire builders into the other end and reads the relay's
// packets back through a StreamFramer, turning the event loop between steps.
// Only io/ calls, so the tests run on every platform.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "io/datagram.hpp"
#include "io/event_loop.hpp"
#include "io/socket.hpp"
#include "wire/ip_packet.hpp"
#include "wire/packet_builder.hpp"
#include "wire/stream_framer.hpp"
#include "wire/transport.hpp"

namespace rtether::relay::testing {

inline wire::IpAddress address(const char* text) {
  wire::IpAddress parsed;
  if (!wire::IpAddress::parse(text, parsed)) throw std::runtime_error(text);
  return parsed;
}

// A TCP header from the device (10.0.0.2) to the host alias (10.0.2.2).
inline wire::TcpSegmentHeader device_tcp(std::uint16_t source_port, std::uint16_t destination_port,
                                         std::uint32_t seq, std::uint32_t ack, std::uint8_t flags,
                                         std::uint16_t window = 65535) {
  wire::TcpSegmentHeader header;
  header.source = address("10.0.0.2");
  header.destination = address("10.0.2.2");
  header.source_port = source_port;
  header.destination_port = destination_port;
  header.seq = seq;
  header.ack = ack;
  header.flags = flags;
  header.window = window;
  return header;
}

// An ICMP or ICMPv6 echo request (after the addresses' version).
inline std::vector<std::uint8_t> echo_request(const char* from, const char* to, std::uint16_t id,
                                              std::uint16_t seq, const std::string& text) {
  wire::IcmpMessageHeader header;
  header.source = address(from);
  header.destination = address(to);
  header.type = header.source.version == wire::IpVersion::V4 ? wire::icmp_type::kEchoRequest
                                                             : wire::icmp_type::kV6EchoRequest;
  header.rest = (std::uint32_t{id} << 16) | seq;
  std::vector<std::uint8_t> out(2000);
  out.resize(wire::build_icmp(
      out, header, wire::Bytes{reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}));
  return out;
}

inline wire::Bytes as_bytes(const std::string& text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// All of `data` on a non-blocking socket, waiting while it would block (at
// most `bound`); the bytes sent.
inline std::size_t send_all(int fd, wire::Bytes data,
                            std::chrono::milliseconds bound = std::chrono::milliseconds(20000)) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  std::size_t sent = 0;
  while (sent < data.size() && std::chrono::steady_clock::now() < deadline) {
    auto n = io::send_some(fd, data.subspan(sent));
    if (n) {
      sent += *n;
    } else if (n.would_block()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    } else {
      break;
    }
  }
  return sent;
}

// One receive as recv(2) counts it: bytes, 0 at end of stream, -1 when
// nothing is queued or it failed.
inline long receive_now(int fd, wire::MutableBytes into) {
  auto n = io::recv_some(fd, into);
  return n ? static_cast<long>(*n) : -1;
}

// A host TCP listener on 127.0.0.1 with an ephemeral port.
struct HostListener {
  io::Fd fd;
  std::uint16_t port = 0;
  HostListener() {
    fd = io::listen_tcp(io::Endpoint{address("127.0.0.1"), 0});
    port = io::local_endpoint(fd.get())->port;
  }
  io::Fd accept_one() {
    auto accepted = io::accept_nonblocking(fd.get());
    return accepted ? std::move(*accepted) : io::Fd{};
  }
  // The next connection, waiting for it up to a second.
  io::Fd accept_waiting() {
    for (int attempt = 0; attempt < 1000; ++attempt) {
      if (auto accepted = accept_one(); accepted.valid()) return accepted;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    throw std::runtime_error("no connection to accept");
  }
};

// Both ends of a loopback TCP connection (connecting end first),
// non-blocking.
inline std::pair<io::Fd, io::Fd> tcp_loopback_pair() {
  HostListener listener;
  auto connection =
      io::connect_nonblocking(io::Transport::Tcp, io::Endpoint{address("127.0.0.1"), listener.port});
  if (!connection) throw std::system_error(connection.error(), "loopback connect");
  io::Fd accepted = listener.accept_waiting();
  io::set_no_delay(connection->fd.get());
  io::set_no_delay(accepted.get());
  return {std::move(connection->fd), std::move(accepted)};
}

// Two UDP sockets on 127.0.0.1 connected to each other, non-blocking.
inline io::Result<std::pair<io::Fd, io::Fd>> udp_loopback_pair() {
  io::Fd first = io::bind_udp(io::Endpoint{address("127.0.0.1"), 0});
  auto first_end = io::local_endpoint(first.get());
  if (!first_end) return first_end.error();
  auto second = io::connect_nonblocking(io::Transport::Udp, *first_end);
  if (!second) return second.error();
  auto second_end = io::local_endpoint(second->fd.get());
  if (!second_end) return second_end.error();
  // The connected twin of `first` on its port; `first` closes right after,
  // so the port has one socket again.
  auto connected = io::open_udp_peer(*first_end, *second_end);
  if (!connected) return connected.error();
  return std::pair{std::move(*connected), std::move(second->fd)};
}

class FakeDevice {
 public:
  explicit FakeDevice(io::EventLoop& loop) : loop_(loop) {
    std::tie(device_end_, relay_end_) = tcp_loopback_pair();
  }

  io::Fd take_relay_end() { return std::move(relay_end_); }
  // The device closes its end of the link.
  void hang_up() { device_end_.reset(); }

  void send_bytes(wire::Bytes bytes) {
    if (send_all(device_end_.get(), bytes) != bytes.size())
      throw std::runtime_error("device send failed");
  }

  void send_tcp(const wire::TcpSegmentHeader& header, wire::Bytes payload = {}) {
    std::vector<std::uint8_t> packet(70000);
    std::size_t length = wire::build_tcp(packet, header, payload);
    send_bytes({packet.data(), length});
  }

  void send_udp(const wire::UdpDatagramHeader& header, wire::Bytes payload) {
    std::vector<std::uint8_t> packet(70000);
    std::size_t length = wire::build_udp(packet, header, payload);
    send_bytes({packet.data(), length});
  }

  // Called before each loop turn of run_until: a test on an io::ManualClock
  // moves it a little there, so that short timers (the delayed ACK) fire
  // while it waits for packets.
  void on_each_turn(std::function<void()> hook) { each_turn_ = std::move(hook); }

  // One loop iteration (waiting at most `wait` for an event), then whatever
  // the relay sent.
  void turn(std::chrono::milliseconds wait = std::chrono::milliseconds(0)) {
    loop_.run_once(wait);
    read_available();
  }

  // Turns the loop until `done` holds or the (real) time bound passes.
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds bound = std::chrono::milliseconds(3000)) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < deadline) {
      if (each_turn_) each_turn_();
      turn(std::chrono::milliseconds(5));
      if (done()) return true;
    }
    return done();
  }

  // The next packet from the relay not yet taken, waiting for it if needed.
  std::optional<std::vector<std::uint8_t>> next_packet() {
    if (!run_until([&] { return packets_.size() > taken_; })) return {};
    return packets_[taken_++];
  }
  // The same, parsed as TCP (the view points into packets(), which keeps it).
  std::optional<wire::TcpView> next_tcp() {
    if (!run_until([&] { return packets_.size() > taken_; })) return {};
    auto ip = wire::parse_ip(packets_[taken_++]);
    if (!ip.packet) return {};
    return wire::TcpView::parse(ip.packet->payload);
  }
  // The next TCP segment that is more than a pure ACK (data or a flag).
  std::optional<wire::TcpView> next_tcp_skipping_pure_acks() {
    constexpr std::uint8_t kControl = wire::tcp_flag::kSyn | wire::tcp_flag::kFin | wire::tcp_flag::kRst;
    for (int count = 0; count < 10000; ++count) {
      auto tcp = next_tcp();
      if (!tcp || !tcp->payload().empty() || (tcp->flags() & kControl)) return tcp;
    }
    return std::nullopt;
  }
  bool all_taken() const { return taken_ == packets_.size(); }

  std::optional<std::uint32_t> client_id() const { return id_; }
  bool closed() const { return closed_; }
  const std::deque<std::vector<std::uint8_t>>& packets() const { return packets_; }

 private:
  void read_available() {
    std::uint8_t buffer[65536];
    while (true) {
      long n = receive_now(device_end_.get(), buffer);
      if (n == 0) {
        closed_ = true;
        return;
      }
      if (n < 0) return;
      stream_.insert(stream_.end(), buffer, buffer + n);
      if (!id_ && stream_.size() >= 4) {
        id_ = wire::load_be32(stream_.data());
        stream_.erase(stream_.begin(), stream_.begin() + 4);
      }
      if (id_) {
        auto room = framer_.writable();
        std::size_t count = std::min(room.size(), stream_.size());
        std::memcpy(room.data(), stream_.data(), count);
        framer_.commit(count);
        stream_.erase(stream_.begin(), stream_.begin() + static_cast<long>(count));
        collect();
      }
    }
  }

  void collect() {
    while (auto packet = framer_.next()) packets_.emplace_back(packet->begin(), packet->end());
  }

  io::EventLoop& loop_;
  std::function<void()> each_turn_;
  io::Fd relay_end_;
  io::Fd device_end_;
  wire::StreamFramer framer_;
  std::vector<std::uint8_t> stream_;
  std::deque<std::vector<std::uint8_t>> packets_;  // deque: views stay valid as it grows
  std::size_t taken_ = 0;
  std::optional<std::uint32_t> id_;
  bool closed_ = false;
};

// The kernel's side of a relay ping socket, for config.open_ping_socket:
// each open hands the relay one end of a non-blocking loopback UDP pair and
// keeps the other end (what the relay sends, what "the kernel" answers).
struct FakePingSocket {
  io::Fd kernel_end;
  io::Endpoint asked;  // the destination of the last open
  int opened = 0;

  std::function<io::Result<io::Fd>(const io::Endpoint&)> opener() {
    return [this](const io::Endpoint& to) -> io::Result<io::Fd> {
      ++opened;
      asked = to;
      auto pair = udp_loopback_pair();
      if (!pair) return pair.error();
      kernel_end = std::move(pair->second);
      return std::move(pair->first);
    };
  }
};

}  // namespace rtether::relay::testing
