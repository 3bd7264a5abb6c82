// The field tables against the header diagrams of their RFCs: each header's
// fields cover its fixed part exactly once, in order, and load()/store()
// read and write big-endian at the field's offset.
#include "wire/field.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace rtether::wire {
namespace {

struct Span {
  std::size_t offset;
  std::size_t size;
};

template <typename T>
Span span(Field<T> field) {
  return {field.offset, sizeof(T)};
}
Span span(ByteField field) { return {field.offset, field.size}; }

// The fields, listed in header order, tile [0, size) with no gap or overlap.
void expect_tiles(const std::vector<Span>& fields, std::size_t size) {
  std::size_t next = 0;
  for (const Span& field : fields) {
    EXPECT_EQ(field.offset, next);
    next = field.offset + field.size;
  }
  EXPECT_EQ(next, size);
}

TEST(FieldTable, Ipv4FieldsCoverTheFixedHeader) {
  using namespace ipv4_field;
  expect_tiles({span(kVersionIhl), span(kTypeOfService), span(kTotalLength), span(kIdentification),
                span(kFlagsFragmentOffset), span(kTtl), span(kProtocol), span(kChecksum),
                span(kSource), span(kDestination)},
               kIpv4MinHeader);
  EXPECT_EQ(ip_field::kVersion.offset, kVersionIhl.offset);
}

TEST(FieldTable, Ipv6FieldsCoverTheFixedHeader) {
  using namespace ipv6_field;
  expect_tiles({span(kVersionClassFlow), span(kPayloadLength), span(kNextHeader), span(kHopLimit),
                span(kSource), span(kDestination)},
               kIpv6Header);
  EXPECT_EQ(ip_field::kVersion.offset, kVersionClassFlow.offset);
}

TEST(FieldTable, Ipv6FragmentFieldsCoverTheFragmentHeader) {
  using namespace ipv6_fragment_field;
  expect_tiles({span(kNextHeader), span(kReserved), span(kOffsetFlags), span(kIdentification)},
               8);
  EXPECT_EQ(kLength, 8u);
}

TEST(FieldTable, TcpFieldsCoverTheFixedHeader) {
  using namespace tcp_field;
  expect_tiles({span(kSourcePort), span(kDestinationPort), span(kSeq), span(kAck),
                span(kDataOffset), span(kFlags), span(kWindow), span(kChecksum),
                span(kUrgentPointer)},
               kTcpMinHeader);
}

TEST(FieldTable, TcpOptionValuesFitTheirLengths) {
  using namespace tcp_option;
  expect_tiles({span(kKind), span(kLength), span(kMssValue)}, kMssLength);
  expect_tiles({span(kKind), span(kLength), span(kWindowScaleValue)}, kWindowScaleLength);
  expect_tiles({span(kKind), span(kLength), span(kTimestampValue), span(kTimestampEcho)},
               kTimestampsLength);
  EXPECT_EQ(kValue, kSackPermittedLength);
}

TEST(FieldTable, UdpFieldsCoverTheHeader) {
  using namespace udp_field;
  expect_tiles({span(kSourcePort), span(kDestinationPort), span(kLength), span(kChecksum)},
               kUdpHeader);
}

TEST(FieldTable, IcmpFieldsCoverTheHeaderForEachMeaningOfTheRest) {
  using namespace icmp_field;
  expect_tiles({span(kType), span(kCode), span(kChecksum), span(kRestOfHeader)}, kIcmpHeader);
  expect_tiles({span(kType), span(kCode), span(kChecksum), span(kEchoIdentifier),
                span(kEchoSequence)},
               kIcmpHeader);
  expect_tiles({span(kType), span(kCode), span(kChecksum), span(kMtu)}, kIcmpHeader);
  EXPECT_EQ(kNextHopMtu.end(), kIcmpHeader);
  EXPECT_EQ(kErrorQuote, kIcmpHeader);
}

TEST(Field, LoadsAndStoresBigEndianAtTheOffset) {
  std::uint8_t bytes[8] = {};
  store(bytes, Field<std::uint8_t>{1}, 0xAB);
  store(bytes, Field<std::uint16_t>{2}, 0x1234);
  store(bytes, Field<std::uint32_t>{4}, 0xDEADBEEF);
  const std::uint8_t expected[8] = {0x00, 0xAB, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF};
  EXPECT_TRUE(std::equal(bytes, bytes + 8, expected));
  EXPECT_EQ(load(bytes, Field<std::uint8_t>{1}), 0xAB);
  EXPECT_EQ(load(bytes, Field<std::uint16_t>{2}), 0x1234);
  EXPECT_EQ(load(bytes, Field<std::uint32_t>{4}), 0xDEADBEEFu);
  EXPECT_EQ(load(bytes, Field<std::uint16_t>{3}), 0x34DE);
}

}  // namespace
}  // namespace rtether::wire
