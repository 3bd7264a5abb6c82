// TcpView, UdpView and IcmpView length checks and the TCP option walk,
// including malformed option lists.
#include "wire/transport.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include <vector>

namespace rtether::wire {
namespace {

using ByteVector = std::vector<std::uint8_t>;

// A TCP header with the given options (padded with EOL to 4 bytes) and payload.
ByteVector tcp_segment(const ByteVector& options, std::size_t payload = 0) {
  // Sized once up front: growing from 20 bytes trips a GCC 12 -Warray-bounds
  // false positive in vector::insert.
  std::size_t header = (kTcpMinHeader + options.size() + 3) / 4 * 4;
  ByteVector out(header + payload, 0);
  store_be16(&out[0], 40000);
  store_be16(&out[2], 443);
  store_be32(&out[4], 0x01020304);
  store_be32(&out[8], 0xA0B0C0D0);
  out[13] = tcp_flag::kSyn | tcp_flag::kAck;
  store_be16(&out[14], 29200);
  store_be16(&out[16], 0xBEEF);
  std::copy(options.begin(), options.end(), out.begin() + kTcpMinHeader);
  out[12] = static_cast<std::uint8_t>((header / 4) << 4);
  std::fill(out.begin() + static_cast<long>(header), out.end(), 0x5A);
  return out;
}

TcpOptions options_of(const ByteVector& options) {
  const auto segment = tcp_segment(options);
  const auto view = TcpView::parse(segment);
  EXPECT_TRUE(view);
  return view ? view->options() : TcpOptions{};
}

TEST(TcpView, ReadsEveryFixedField) {
  const auto segment = tcp_segment({}, 5);
  const auto view = TcpView::parse(segment);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->source_port(), 40000);
  EXPECT_EQ(view->destination_port(), 443);
  EXPECT_EQ(view->seq(), 0x01020304u);
  EXPECT_EQ(view->ack(), 0xA0B0C0D0u);
  EXPECT_EQ(view->header_length(), 20u);
  EXPECT_EQ(view->flags(), tcp_flag::kSyn | tcp_flag::kAck);
  EXPECT_EQ(view->window(), 29200);
  EXPECT_TRUE(view->options_bytes().empty());
  EXPECT_EQ(view->payload().data(), segment.data() + 20);
  EXPECT_EQ(view->payload().size(), 5u);
}

TEST(TcpView, RejectsFewerThanTwentyBytes) {
  const auto segment = tcp_segment({});
  EXPECT_FALSE(TcpView::parse(Bytes(segment).first(19)));
}

TEST(TcpView, RejectsDataOffsetBelowFiveWords) {
  auto segment = tcp_segment({});
  segment[12] = 4 << 4;
  EXPECT_FALSE(TcpView::parse(segment));
}

TEST(TcpView, RejectsDataOffsetBeyondTheBytesGiven) {
  auto segment = tcp_segment({2, 4, 5, 0xB4});  // 24-byte header
  EXPECT_TRUE(TcpView::parse(segment));
  EXPECT_FALSE(TcpView::parse(Bytes(segment).first(23)));
}

TEST(TcpOptions, ReadsATypicalSynOptionList) {
  // What Linux sends on SYN: MSS, SACK-permitted, timestamps, NOP, window scale.
  const auto options = options_of({2, 4, 0x05, 0xB4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 3, 3, 7});
  EXPECT_EQ(options.mss, 1460);
  EXPECT_TRUE(options.sack_permitted);
  EXPECT_EQ(options.timestamp_value, 1u);
  EXPECT_EQ(options.timestamp_echo, 2u);
  EXPECT_EQ(options.window_scale, 7);
}

TEST(TcpOptions, AreEmptyWithoutOptionBytes) {
  const auto options = options_of({});
  EXPECT_FALSE(options.mss);
  EXPECT_FALSE(options.window_scale);
  EXPECT_FALSE(options.sack_permitted);
  EXPECT_FALSE(options.timestamp_value);
  EXPECT_FALSE(options.timestamp_echo);
}

TEST(TcpOptions, StopAtEndOfOptionList) {
  const auto options = options_of({2, 4, 0x05, 0xB4, 0, 3, 3, 7});
  EXPECT_EQ(options.mss, 1460);
  EXPECT_FALSE(options.window_scale);
}

TEST(TcpOptions, SkipUnknownKindsByTheirLength) {
  const auto options = options_of({30, 6, 0xFF, 0xFF, 0xFF, 0xFF, 3, 3, 9});
  EXPECT_EQ(options.window_scale, 9);
}

TEST(TcpOptions, IgnoreAKnownKindWithTheWrongLength) {
  const auto options = options_of({2, 6, 0x05, 0xB4, 0, 0, 3, 3, 2});
  EXPECT_FALSE(options.mss);
  EXPECT_EQ(options.window_scale, 2);
}

TEST(TcpOptions, StopAtALengthBelowTwoKeepingWhatWasRead) {
  for (std::uint8_t length : {0, 1}) {
    const auto options = options_of({3, 3, 4, 30, length, 2, 4, 0x05, 0xB4});
    EXPECT_EQ(options.window_scale, 4) << int{length};
    EXPECT_FALSE(options.mss) << int{length};
  }
}

TEST(TcpOptions, StopAtALengthRunningPastTheHeader) {
  // The timestamps option claims 10 bytes where 6 remain; the 2 bytes of
  // padding after it must not be read as option data either.
  const auto options = options_of({2, 4, 0x01, 0x00, 8, 10, 1, 2, 3, 4});
  EXPECT_EQ(options.mss, 256);
  EXPECT_FALSE(options.timestamp_value);
}

TEST(TcpOptions, StopAtAKindWithoutItsLengthByte) {
  // Three NOPs then MSS kind as the very last header byte.
  const auto options = options_of({1, 1, 1, 2});
  EXPECT_FALSE(options.mss);
}

TEST(UdpView, ReadsFieldsAndCutsThePayloadToTheLengthField) {
  ByteVector datagram(20, 0x11);
  store_be16(&datagram[0], 53);
  store_be16(&datagram[2], 5353);
  store_be16(&datagram[4], 12);
  store_be16(&datagram[6], 0x1234);
  const auto view = UdpView::parse(datagram);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->source_port(), 53);
  EXPECT_EQ(view->destination_port(), 5353);
  EXPECT_EQ(view->length(), 12);
  EXPECT_EQ(view->payload().size(), 4u);
}

TEST(UdpView, AcceptsAnEmptyPayload) {
  ByteVector datagram(8, 0);
  store_be16(&datagram[4], 8);
  const auto view = UdpView::parse(datagram);
  ASSERT_TRUE(view);
  EXPECT_TRUE(view->payload().empty());
}

TEST(UdpView, RejectsFewerThanEightBytes) {
  ByteVector datagram(7, 0);
  EXPECT_FALSE(UdpView::parse(datagram));
}

TEST(UdpView, RejectsALengthFieldBelowTheHeader) {
  ByteVector datagram(16, 0);
  store_be16(&datagram[4], 7);
  EXPECT_FALSE(UdpView::parse(datagram));
}

TEST(UdpView, RejectsALengthFieldBeyondTheBytesGiven) {
  ByteVector datagram(16, 0);
  store_be16(&datagram[4], 17);
  EXPECT_FALSE(UdpView::parse(datagram));
}

TEST(IcmpView, ReadsAnEchoRequest) {
  ByteVector message = {icmp_type::kEchoRequest, 0, 0xAB, 0xCD, 0x12, 0x34, 0x00, 0x07, 'h', 'i'};
  const auto view = IcmpView::parse(message);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->type(), icmp_type::kEchoRequest);
  EXPECT_EQ(view->code(), 0);
  EXPECT_EQ(view->echo_identifier(), 0x1234);
  EXPECT_EQ(view->echo_sequence(), 7);
  EXPECT_EQ(view->payload().size(), 2u);
  EXPECT_EQ(view->bytes().size(), 10u);
}

TEST(IcmpView, RejectsFewerThanEightBytes) {
  ByteVector message(7, 0);
  EXPECT_FALSE(IcmpView::parse(message));
  message.push_back(0);
  EXPECT_TRUE(IcmpView::parse(message));
}

}  // namespace
}  // namespace rtether::wire
