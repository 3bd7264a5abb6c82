// Fixtures for the tcp::Endpoint tests: device segments built from fields,
// and endpoints driven into each state the way a device and the relay would
// (smoltcp style: every per-state test starts from one of these).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "tcp/endpoint.hpp"
#include "tcp/seq_number_printer.hpp"

namespace rtether::tcp::fixtures {

using wire::tcp_flag::kAck;
using wire::tcp_flag::kFin;
using wire::tcp_flag::kPsh;
using wire::tcp_flag::kRst;
using wire::tcp_flag::kSyn;

constexpr SeqNumber kIrs{1000};   // the device's initial sequence number
constexpr SeqNumber kIss{50000};  // ours
constexpr SeqNumber kZero{0};     // a RST's or bare SYN's unused field
inline const Time kStart = Time{} + std::chrono::hours(1);

// How the device opens the connection, and our configuration.
struct Handshake {
  Config config;
  SeqNumber irs = kIrs;
  SeqNumber iss = kIss;
  std::optional<std::uint16_t> device_mss = 1460;
  std::optional<std::uint8_t> device_window_scale = 7;
  std::uint16_t device_syn_window = 65535;
  std::uint16_t device_window = 1000;  // field in the handshake ACK (x128 with shift 7)
};

inline wire::Bytes payload(std::size_t size) {
  static const std::vector<std::uint8_t> bytes(70000, 0xab);
  return wire::Bytes(bytes).first(size);
}

inline Segment device_segment(SeqNumber seq, SeqNumber ack, std::uint8_t flags,
                              std::uint16_t window, wire::Bytes data = {}) {
  Segment segment;
  segment.seq = seq;
  segment.ack = ack;
  segment.flags = flags;
  segment.window = window;
  segment.payload = data;
  return segment;
}

inline Segment device_syn(const Handshake& setup) {
  Segment syn = device_segment(setup.irs, kZero, kSyn, setup.device_syn_window);
  syn.options.mss = setup.device_mss;
  syn.options.window_scale = setup.device_window_scale;
  return syn;
}

// Every control segment the endpoint has to send now.
inline std::vector<OutSegment> drain(Endpoint& endpoint, Time now) {
  std::vector<OutSegment> out;
  while (auto segment = endpoint.poll(now)) out.push_back(*segment);
  return out;
}

inline Endpoint connecting(const Handshake& setup = {}) {
  return Endpoint::passive(device_syn(setup), setup.config, setup.iss, kStart);
}

// SYN-ACK already polled (sent) at kStart.
inline Endpoint syn_received(const Handshake& setup = {}) {
  Endpoint endpoint = connecting(setup);
  endpoint.on_connected(kStart);
  drain(endpoint, kStart);
  return endpoint;
}

inline Endpoint established(const Handshake& setup = {}) {
  Endpoint endpoint = syn_received(setup);
  endpoint.on_segment(device_segment(setup.irs + 1, setup.iss + 1, kAck, setup.device_window),
                      kStart);
  drain(endpoint, kStart);
  return endpoint;
}

// An ACK from the device at its current position, acknowledging `ack`.
inline Segment device_ack(const Endpoint& endpoint, SeqNumber ack,
                          std::uint16_t window = 1000) {
  return device_segment(endpoint.rcv_nxt(), ack, kAck, window);
}

// Established with `bytes` of our data sent and not yet acknowledged.
inline Endpoint with_data_in_flight(std::uint32_t bytes, const Handshake& setup = {}) {
  Endpoint endpoint = established(setup);
  endpoint.send_data(bytes, kStart);
  return endpoint;
}

// The device sent FIN (no data) and the relay consumed it.
inline Endpoint close_wait(const Handshake& setup = {}) {
  Endpoint endpoint = established(setup);
  endpoint.on_segment(
      device_segment(setup.irs + 1, setup.iss + 1, kAck | kFin, setup.device_window), kStart);
  endpoint.accept(0, kStart);
  drain(endpoint, kStart);
  return endpoint;
}

// The host closed first; our FIN (at iss + 1) is sent.
inline Endpoint fin_wait1(const Handshake& setup = {}) {
  Endpoint endpoint = established(setup);
  endpoint.host_closed(kStart);
  drain(endpoint, kStart);
  return endpoint;
}

inline Endpoint fin_wait2(const Handshake& setup = {}) {
  Endpoint endpoint = fin_wait1(setup);
  endpoint.on_segment(device_segment(setup.irs + 1, setup.iss + 2, kAck, setup.device_window),
                      kStart);
  return endpoint;
}

// Both FINs crossed: the device's FIN does not acknowledge ours.
inline Endpoint closing(const Handshake& setup = {}) {
  Endpoint endpoint = fin_wait1(setup);
  endpoint.on_segment(
      device_segment(setup.irs + 1, setup.iss + 1, kAck | kFin, setup.device_window), kStart);
  endpoint.accept(0, kStart);
  drain(endpoint, kStart);
  return endpoint;
}

inline Endpoint last_ack(const Handshake& setup = {}) {
  Endpoint endpoint = close_wait(setup);
  endpoint.host_closed(kStart);
  drain(endpoint, kStart);
  return endpoint;
}

inline Endpoint time_wait(const Handshake& setup = {}) {
  Endpoint endpoint = fin_wait2(setup);
  endpoint.on_segment(
      device_segment(setup.irs + 1, setup.iss + 2, kAck | kFin, setup.device_window), kStart);
  endpoint.accept(0, kStart);
  drain(endpoint, kStart);
  return endpoint;
}

}  // namespace rtether::tcp::fixtures
