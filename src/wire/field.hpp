// The byte layout of every header wire/ reads or writes, one table per
// header, each from the RFC that defines it. The checked views
// (ip_packet, transport), the builders (packet_builder) and the ICMP error
// builder (icmp_error) all address header bytes through these tables and
// nothing else, so a field is written down exactly once.
//
// A Field<T> is a big-endian field of type T at a byte offset from the start
// of its header; load() and store() read and write it. They do not check
// bounds: a view has checked its length once at parse time, a builder has
// checked the room it writes into.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "wire/bytes.hpp"

namespace rtether::wire {

template <typename T>
struct Field {
  static_assert(std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::uint16_t> ||
                std::is_same_v<T, std::uint32_t>);
  std::size_t offset;
  constexpr std::size_t end() const { return offset + sizeof(T); }
};

// A run of bytes copied as they are (addresses).
struct ByteField {
  std::size_t offset;
  std::size_t size;
  constexpr std::size_t end() const { return offset + size; }
};

template <typename T>
T load(const std::uint8_t* header, Field<T> field) {
  if constexpr (std::is_same_v<T, std::uint8_t>) {
    return header[field.offset];
  } else if constexpr (std::is_same_v<T, std::uint16_t>) {
    return load_be16(header + field.offset);
  } else {
    return load_be32(header + field.offset);
  }
}

template <typename T>
void store(std::uint8_t* header, Field<T> field, std::type_identity_t<T> value) {
  if constexpr (std::is_same_v<T, std::uint8_t>) {
    header[field.offset] = value;
  } else if constexpr (std::is_same_v<T, std::uint16_t>) {
    store_be16(header + field.offset, value);
  } else {
    store_be32(header + field.offset, value);
  }
}

// Both IP versions open with the version number in the high nibble of the
// first byte (RFC 791 section 3.1, RFC 8200 section 3): it is read before
// anything says which header follows.
namespace ip_field {
constexpr Field<std::uint8_t> kVersion{0};
constexpr unsigned kVersionShift = 4;
}  // namespace ip_field

// IPv4 header, RFC 791 section 3.1.
namespace ipv4_field {
constexpr Field<std::uint8_t> kVersionIhl{0};        // version, IHL (low nibble, 32-bit words)
constexpr Field<std::uint8_t> kTypeOfService{1};     // DSCP and ECN (RFC 2474, RFC 3168)
constexpr Field<std::uint16_t> kTotalLength{2};      // header and data, in bytes
constexpr Field<std::uint16_t> kIdentification{4};
constexpr Field<std::uint16_t> kFlagsFragmentOffset{6};
constexpr Field<std::uint8_t> kTtl{8};
constexpr Field<std::uint8_t> kProtocol{9};
constexpr Field<std::uint16_t> kChecksum{10};        // over the header alone
constexpr ByteField kSource{12, 4};
constexpr ByteField kDestination{16, 4};
constexpr std::uint8_t kIhlMask = 0x0F;
constexpr std::size_t kIhlUnit = 4;
constexpr std::uint16_t kDontFragment = 0x4000;
constexpr std::uint16_t kMoreFragments = 0x2000;
constexpr std::uint16_t kFragmentOffsetMask = 0x1FFF;  // in 8-byte units
constexpr std::size_t kFragmentOffsetUnit = 8;
}  // namespace ipv4_field
constexpr std::size_t kIpv4MinHeader = ipv4_field::kDestination.end();  // options follow
static_assert(kIpv4MinHeader == 20);

// IPv6 header, RFC 8200 section 3.
namespace ipv6_field {
constexpr Field<std::uint32_t> kVersionClassFlow{0};  // version 4 bits, class 8, flow label 20
constexpr Field<std::uint16_t> kPayloadLength{4};     // bytes after this header
constexpr Field<std::uint8_t> kNextHeader{6};
constexpr Field<std::uint8_t> kHopLimit{7};
constexpr ByteField kSource{8, 16};
constexpr ByteField kDestination{24, 16};
constexpr unsigned kVersionShift = 28;  // within kVersionClassFlow
}  // namespace ipv6_field
constexpr std::size_t kIpv6Header = ipv6_field::kDestination.end();
static_assert(kIpv6Header == 40);

// The start every IPv6 extension header the parser walks shares: hop-by-hop
// and destination options (RFC 8200 sections 4.3 and 4.6), routing (4.4).
namespace ipv6_extension_field {
constexpr Field<std::uint8_t> kNextHeader{0};
constexpr Field<std::uint8_t> kLength{1};  // 8-byte units, not counting the first 8
constexpr std::size_t kLengthUnit = 8;
}  // namespace ipv6_extension_field

// IPv6 fragment header, RFC 8200 section 4.5 (fixed size).
namespace ipv6_fragment_field {
constexpr Field<std::uint8_t> kNextHeader{0};
constexpr Field<std::uint8_t> kReserved{1};
constexpr Field<std::uint16_t> kOffsetFlags{2};  // offset (13 bits, 8-byte units), 2 reserved, M
constexpr Field<std::uint32_t> kIdentification{4};
constexpr std::uint16_t kOffsetMask = 0xFFF8;  // already in bytes: the offset is shifted by 3
constexpr std::uint16_t kMoreFragments = 0x0001;
constexpr std::size_t kLength = kIdentification.end();
}  // namespace ipv6_fragment_field

// IPv6 authentication header, RFC 4302 section 2.2.
namespace ipv6_auth_field {
constexpr Field<std::uint8_t> kNextHeader{0};
constexpr Field<std::uint8_t> kPayloadLength{1};  // 4-byte units, minus 2
constexpr std::size_t kLengthUnit = 4;
constexpr std::size_t kLengthBias = 2;
}  // namespace ipv6_auth_field

// TCP header, RFC 9293 section 3.1.
namespace tcp_field {
constexpr Field<std::uint16_t> kSourcePort{0};
constexpr Field<std::uint16_t> kDestinationPort{2};
constexpr Field<std::uint32_t> kSeq{4};
constexpr Field<std::uint32_t> kAck{8};
constexpr Field<std::uint8_t> kDataOffset{12};  // high nibble, 32-bit words; low nibble reserved
constexpr Field<std::uint8_t> kFlags{13};       // wire::tcp_flag bits
constexpr Field<std::uint16_t> kWindow{14};
constexpr Field<std::uint16_t> kChecksum{16};   // pseudo header, header and data
constexpr Field<std::uint16_t> kUrgentPointer{18};
constexpr unsigned kDataOffsetShift = 4;
constexpr std::size_t kDataOffsetUnit = 4;
}  // namespace tcp_field
constexpr std::size_t kTcpMinHeader = tcp_field::kUrgentPointer.end();  // options follow
static_assert(kTcpMinHeader == 20);

// TCP options (RFC 9293 section 3.2): kind, length (kind and length bytes
// included), value; End and NOP are a single kind byte. Kinds and their
// fixed lengths: RFC 9293 3.2 (MSS), RFC 7323 2.2 and 3.2 (window scale,
// timestamps), RFC 2018 section 2 (SACK permitted).
namespace tcp_option {
constexpr Field<std::uint8_t> kKind{0};
constexpr Field<std::uint8_t> kLength{1};
constexpr std::size_t kValue = kLength.end();
constexpr std::uint8_t kEnd = 0;
constexpr std::uint8_t kNop = 1;
constexpr std::uint8_t kMss = 2;
constexpr std::uint8_t kWindowScale = 3;
constexpr std::uint8_t kSackPermitted = 4;
constexpr std::uint8_t kTimestamps = 8;
constexpr std::uint8_t kMssLength = 4;
constexpr std::uint8_t kWindowScaleLength = 3;
constexpr std::uint8_t kSackPermittedLength = 2;
constexpr std::uint8_t kTimestampsLength = 10;
constexpr Field<std::uint16_t> kMssValue{kValue};
constexpr Field<std::uint8_t> kWindowScaleValue{kValue};
constexpr Field<std::uint32_t> kTimestampValue{kValue};
constexpr Field<std::uint32_t> kTimestampEcho{kTimestampValue.end()};
}  // namespace tcp_option

// UDP header, RFC 768.
namespace udp_field {
constexpr Field<std::uint16_t> kSourcePort{0};
constexpr Field<std::uint16_t> kDestinationPort{2};
constexpr Field<std::uint16_t> kLength{4};    // header and data, in bytes
constexpr Field<std::uint16_t> kChecksum{6};  // pseudo header, header and data; 0 = none
}  // namespace udp_field
constexpr std::size_t kUdpHeader = udp_field::kChecksum.end();
static_assert(kUdpHeader == 8);

// ICMP (RFC 792) and ICMPv6 (RFC 4443 section 2.1) header: type, code,
// checksum and four bytes whose meaning depends on the type.
namespace icmp_field {
constexpr Field<std::uint8_t> kType{0};
constexpr Field<std::uint8_t> kCode{1};
constexpr Field<std::uint16_t> kChecksum{2};  // ICMPv4: message only; ICMPv6: with pseudo header
constexpr Field<std::uint32_t> kRestOfHeader{4};
constexpr Field<std::uint16_t> kEchoIdentifier{4};  // RFC 792 echo, RFC 4443 4.1 and 4.2
constexpr Field<std::uint16_t> kEchoSequence{6};
constexpr Field<std::uint16_t> kNextHopMtu{6};  // ICMPv4 fragmentation needed, RFC 1191 section 4
constexpr Field<std::uint32_t> kMtu{4};         // ICMPv6 packet too big, RFC 4443 3.2
// An error quotes the packet that caused it right after the header: its IP
// header and at least 64 bits of data (RFC 792), as much as fits (RFC 1812
// 4.3.2.3, RFC 4443 2.4 (c)).
constexpr std::size_t kErrorQuote = kRestOfHeader.end();
}  // namespace icmp_field
constexpr std::size_t kIcmpHeader = icmp_field::kRestOfHeader.end();
static_assert(kIcmpHeader == 8);

}  // namespace rtether::wire
