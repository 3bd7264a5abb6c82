// Checked views over TCP, UDP and ICMP/ICMPv6 headers. Each view is built by
// parse() from the IP payload, which checks the lengths once; accessors never
// read out of bounds afterwards.
#pragma once

#include <cstdint>
#include <optional>

#include "wire/bytes.hpp"

namespace rtether::wire {

// TCP flags (RFC 9293 section 3.1).
namespace tcp_flag {
constexpr std::uint8_t kFin = 0x01;
constexpr std::uint8_t kSyn = 0x02;
constexpr std::uint8_t kRst = 0x04;
constexpr std::uint8_t kPsh = 0x08;
constexpr std::uint8_t kAck = 0x10;
constexpr std::uint8_t kUrg = 0x20;
}  // namespace tcp_flag

constexpr std::size_t kTcpMinHeader = 20;  // RFC 9293 section 3.1
constexpr std::size_t kUdpHeader = 8;      // RFC 768
constexpr std::size_t kIcmpHeader = 8;     // RFC 792 / RFC 4443 (type, code, sum, 4 bytes)

// TCP options the relay understands (RFC 9293 3.2, RFC 7323, RFC 2018).
struct TcpOptions {
  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> window_scale;  // shift count as sent (callers clamp to 14)
  bool sack_permitted = false;
  std::optional<std::uint32_t> timestamp_value;
  std::optional<std::uint32_t> timestamp_echo;
};

class TcpView {
 public:
  // Requires 20 bytes and data offset >= 5 within data; nullopt otherwise.
  static std::optional<TcpView> parse(Bytes data);

  std::uint16_t source_port() const { return load_be16(data_.data()); }
  std::uint16_t destination_port() const { return load_be16(data_.data() + 2); }
  std::uint32_t seq() const { return load_be32(data_.data() + 4); }
  std::uint32_t ack() const { return load_be32(data_.data() + 8); }
  std::size_t header_length() const { return (data_[12] >> 4) * 4u; }
  std::uint8_t flags() const { return data_[13]; }
  std::uint16_t window() const { return load_be16(data_.data() + 14); }
  std::uint16_t checksum() const { return load_be16(data_.data() + 16); }
  Bytes options_bytes() const { return data_.subspan(kTcpMinHeader, header_length() - kTcpMinHeader); }
  // Parses the option list; malformed options end the walk (what was read so far is kept).
  TcpOptions options() const;
  Bytes payload() const { return data_.subspan(header_length()); }
  Bytes bytes() const { return data_; }

 private:
  explicit TcpView(Bytes data) : data_(data) {}
  Bytes data_;
};

class UdpView {
 public:
  // Requires 8 bytes and 8 <= length field <= data size; the payload is cut
  // to the length field.
  static std::optional<UdpView> parse(Bytes data);

  std::uint16_t source_port() const { return load_be16(data_.data()); }
  std::uint16_t destination_port() const { return load_be16(data_.data() + 2); }
  std::uint16_t length() const { return load_be16(data_.data() + 4); }
  std::uint16_t checksum() const { return load_be16(data_.data() + 6); }
  Bytes payload() const { return data_.subspan(kUdpHeader, length() - kUdpHeader); }

 private:
  explicit UdpView(Bytes data) : data_(data) {}
  Bytes data_;
};

// ICMP (RFC 792) and ICMPv6 (RFC 4443) share this layout.
namespace icmp_type {
constexpr std::uint8_t kEchoReply = 0;
constexpr std::uint8_t kDestUnreachable = 3;
constexpr std::uint8_t kEchoRequest = 8;
constexpr std::uint8_t kTimeExceeded = 11;
constexpr std::uint8_t kV6DestUnreachable = 1;
constexpr std::uint8_t kV6PacketTooBig = 2;
constexpr std::uint8_t kV6TimeExceeded = 3;
constexpr std::uint8_t kV6EchoRequest = 128;
constexpr std::uint8_t kV6EchoReply = 129;
}  // namespace icmp_type

class IcmpView {
 public:
  static std::optional<IcmpView> parse(Bytes data);

  std::uint8_t type() const { return data_[0]; }
  std::uint8_t code() const { return data_[1]; }
  std::uint16_t checksum() const { return load_be16(data_.data() + 2); }
  std::uint16_t echo_identifier() const { return load_be16(data_.data() + 4); }
  std::uint16_t echo_sequence() const { return load_be16(data_.data() + 6); }
  Bytes payload() const { return data_.subspan(kIcmpHeader); }
  Bytes bytes() const { return data_; }

 private:
  explicit IcmpView(Bytes data) : data_(data) {}
  Bytes data_;
};

}  // namespace rtether::wire
