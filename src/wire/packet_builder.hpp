// Builders for the packets the relay sends toward the device: IPv4/IPv6 with
// TCP, UDP or ICMP, checksums filled in (or, for TCP and UDP, left for the
// link to complete: ChecksumMode).
//
// Hot path shape: the caller reserves header room at the front of its output
// buffer, reads payload straight into out[header_size(...)...] (no copy), then
// calls write_*_headers() to fill the headers in place. build_*() are the
// convenience forms that copy a payload first (tests, control segments).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "wire/bytes.hpp"
#include "wire/ip_address.hpp"

namespace rtether::wire {

struct TcpSegmentHeader {
  IpAddress source;       // both addresses have the same version
  IpAddress destination;
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t flags = 0;  // wire::tcp_flag bits
  std::uint16_t window = 0;  // raw 16-bit field (already scaled down)
  std::optional<std::uint16_t> mss;          // SYN only
  std::optional<std::uint8_t> window_scale;  // SYN only
  bool sack_permitted = false;               // SYN only
  std::uint8_t ttl = 64;
};

struct UdpDatagramHeader {
  IpAddress source;
  IpAddress destination;
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::uint8_t ttl = 64;
};

// ICMP or ICMPv6 message: type, code and the 4 "rest of header" bytes
// (identifier+sequence for echo, MTU for "too big", unused for errors).
struct IcmpMessageHeader {
  IpAddress source;
  IpAddress destination;
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  std::uint32_t rest = 0;
  std::uint8_t ttl = 64;
};

// What goes in the TCP or UDP checksum field.
//   Full: the whole checksum (RFC 9293 3.1, RFC 768, RFC 8200 8.1).
//   PseudoHeaderOnly: the folded sum of the pseudo header alone, not
//     complemented: a "partial" checksum that the link toward the device
//     completes over the segment, from the transport header on (the Linux
//     kernel behind a tun with a virtio-net header marked NEEDS_CSUM: it
//     computes the rest if the packet ever leaves the device's kernel, and
//     a socket inside it takes the packet as checked). So the relay's one
//     pass over the payload, and the device kernel's, are saved.
// ICMP checksums are always whole.
enum class ChecksumMode : std::uint8_t { Full, PseudoHeaderOnly };

std::size_t ip_header_size(IpVersion version);  // 20 or 40 (no options)
std::size_t tcp_header_size(const TcpSegmentHeader& header);  // IP + TCP incl. options (padded to 4)
std::size_t udp_header_size(IpVersion version);               // IP + 8
std::size_t icmp_header_size(IpVersion version);              // IP + 8

// Payload of payload_length bytes already sits at out[tcp_header_size(h)...].
// Fills IP and TCP headers and checksums; returns the total packet length.
// Requires out.size() >= header size + payload_length <= 65535 for IPv4.
std::size_t write_tcp_headers(MutableBytes out, const TcpSegmentHeader& header,
                              std::size_t payload_length,
                              ChecksumMode checksum = ChecksumMode::Full);
std::size_t write_udp_headers(MutableBytes out, const UdpDatagramHeader& header,
                              std::size_t payload_length,
                              ChecksumMode checksum = ChecksumMode::Full);
std::size_t write_icmp_headers(MutableBytes out, const IcmpMessageHeader& header,
                               std::size_t payload_length);

// Where a link that completes checksums finds the work left in `packet`,
// one whole packet as the builders above make it (IPv4, or IPv6 without
// extension headers): the transport header's offset and its checksum
// field's, relative to the packet's start. Given only for TCP and UDP whose
// checksum field holds the pseudo header's folded sum, which is what
// ChecksumMode::PseudoHeaderOnly writes; a packet with a whole checksum
// gets nullopt, and the link leaves it as it is. (A whole checksum that
// happens to equal that sum also gets the offsets, and completes to
// itself: the completed sum over the segment with the field as it stands
// is the whole checksum either way.)
struct PartialChecksum {
  std::uint16_t start;  // the transport header, where the sum starts
  std::uint16_t field;  // the checksum field, from `start`
};
std::optional<PartialChecksum> partial_checksum_of(Bytes packet);

// Copying forms: copy payload after the header room, then write headers.
// Return 0 if out is too small.
std::size_t build_tcp(MutableBytes out, const TcpSegmentHeader& header, Bytes payload,
                      ChecksumMode checksum = ChecksumMode::Full);
std::size_t build_udp(MutableBytes out, const UdpDatagramHeader& header, Bytes payload,
                      ChecksumMode checksum = ChecksumMode::Full);
std::size_t build_icmp(MutableBytes out, const IcmpMessageHeader& header, Bytes payload);

}  // namespace rtether::wire
