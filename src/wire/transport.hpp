// Checked views over TCP, UDP and ICMP/ICMPv6 headers. Each view is built by
// parse() from the IP payload, which checks the lengths once; accessors never
// read out of bounds afterwards. Fields are read through the tables in
// wire/field.hpp.
#pragma once

#include <cstdint>
#include <optional>

#include "wire/bytes.hpp"
#include "wire/field.hpp"

namespace rtether::wire {

// TCP flags (RFC 9293 section 3.1).
namespace tcp_flag {
constexpr std::uint8_t kFin = 0x01;
constexpr std::uint8_t kSyn = 0x02;
constexpr std::uint8_t kRst = 0x04;
constexpr std::uint8_t kPsh = 0x08;
constexpr std::uint8_t kAck = 0x10;
}  // namespace tcp_flag

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

  std::uint16_t source_port() const { return load(data_.data(), tcp_field::kSourcePort); }
  std::uint16_t destination_port() const { return load(data_.data(), tcp_field::kDestinationPort); }
  std::uint32_t seq() const { return load(data_.data(), tcp_field::kSeq); }
  std::uint32_t ack() const { return load(data_.data(), tcp_field::kAck); }
  std::size_t header_length() const { return header_length_of(data_.data()); }
  std::uint8_t flags() const { return load(data_.data(), tcp_field::kFlags); }
  std::uint16_t window() const { return load(data_.data(), tcp_field::kWindow); }
  Bytes options_bytes() const {
    return data_.subspan(kTcpMinHeader, header_length() - kTcpMinHeader);
  }
  // Parses the option list; malformed options end the walk (what was read so far is kept).
  TcpOptions options() const;
  Bytes payload() const { return data_.subspan(header_length()); }

 private:
  explicit TcpView(Bytes data) : data_(data) {}
  static std::size_t header_length_of(const std::uint8_t* header) {
    return (load(header, tcp_field::kDataOffset) >> tcp_field::kDataOffsetShift) *
           tcp_field::kDataOffsetUnit;
  }
  Bytes data_;
};

class UdpView {
 public:
  // Requires 8 bytes and 8 <= length field <= data size; the payload is cut
  // to the length field.
  static std::optional<UdpView> parse(Bytes data);

  std::uint16_t source_port() const { return load(data_.data(), udp_field::kSourcePort); }
  std::uint16_t destination_port() const { return load(data_.data(), udp_field::kDestinationPort); }
  std::uint16_t length() const { return load(data_.data(), udp_field::kLength); }
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
constexpr std::uint8_t kParameterProblem = 12;
constexpr std::uint8_t kV6DestUnreachable = 1;
constexpr std::uint8_t kV6PacketTooBig = 2;
constexpr std::uint8_t kV6TimeExceeded = 3;
constexpr std::uint8_t kV6ParameterProblem = 4;
constexpr std::uint8_t kV6EchoRequest = 128;
constexpr std::uint8_t kV6EchoReply = 129;
// RFC 792: the query types that, with echo, are not error messages.
constexpr std::uint8_t kTimestamp = 13;
constexpr std::uint8_t kTimestampReply = 14;
constexpr std::uint8_t kInformationRequest = 15;
constexpr std::uint8_t kInformationReply = 16;
// RFC 4443 2.1: types below this are ICMPv6 error messages.
constexpr std::uint8_t kV6FirstInformational = 128;
}  // namespace icmp_type

class IcmpView {
 public:
  static std::optional<IcmpView> parse(Bytes data);

  std::uint8_t type() const { return load(data_.data(), icmp_field::kType); }
  std::uint8_t code() const { return load(data_.data(), icmp_field::kCode); }
  std::uint16_t echo_identifier() const { return load(data_.data(), icmp_field::kEchoIdentifier); }
  std::uint16_t echo_sequence() const { return load(data_.data(), icmp_field::kEchoSequence); }
  Bytes payload() const { return data_.subspan(kIcmpHeader); }
  Bytes bytes() const { return data_; }

 private:
  explicit IcmpView(Bytes data) : data_(data) {}
  Bytes data_;
};

}  // namespace rtether::wire
