// TcpFlow engine tests: bulk host->device transfer with the device acking,
// retransmission from the host socket after a lost segment, and device
// half-close reaching the host as EOF. Each runs with SO_PEEK_OFF and with
// the copy fallback used on kernels without it.
#include "relay/tcp_flow.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "relay/client_session.hpp"
#include "relay/fake_device.hpp"

namespace rtether::relay {
namespace {

using testing::address;
using testing::FakeDevice;
using testing::HostListener;
namespace flag = wire::tcp_flag;

constexpr std::uint16_t kDevicePort = 41000;
constexpr std::uint32_t kDeviceIss = 0xFFFFFF00;  // wraps during the test

std::vector<std::uint8_t> pattern(std::size_t size) {
  std::vector<std::uint8_t> bytes(size);
  std::uint32_t state = 12345;
  for (auto& byte : bytes) {
    state = state * 1103515245 + 12345;
    byte = static_cast<std::uint8_t>(state >> 16);
  }
  return bytes;
}

class TcpFlowTransfer : public ::testing::TestWithParam<bool> {
 protected:
  TcpFlowTransfer() : device_(loop_) {
    config_.use_peek_offset = GetParam();
    config_.tcp.min_rto = std::chrono::milliseconds(50);
  }

  wire::TcpSegmentHeader segment(std::uint32_t seq, std::uint32_t ack, std::uint8_t flags,
                                 std::uint16_t window = 65535) {
    return testing::device_tcp(kDevicePort, listener_.port, seq, ack, flags, window);
  }
  std::optional<wire::TcpView> next_tcp() { return device_.next_tcp(); }

  // Handshake with window scaling offered (shift 7): returns relay ISS + 1.
  // Starts the session first, so a test may change config_ before.
  std::uint32_t establish() {
    session_ = std::make_unique<ClientSession>(loop_, device_.take_relay_end(), 0, config_, nullptr);
    session_->start();
    auto syn = segment(kDeviceIss, 0, flag::kSyn);
    syn.mss = 1400;
    syn.window_scale = 7;
    device_.send_tcp(syn);
    auto syn_ack = next_tcp();
    EXPECT_TRUE(syn_ack);
    relay_shift_ = syn_ack->options().window_scale.value_or(0);
    std::uint32_t relay_next = syn_ack->seq() + 1;
    device_.send_tcp(segment(kDeviceIss + 1, relay_next, flag::kAck, 4096));  // 4096 << 7 = 512 KiB
    host_ = listener_.accept_one();
    for (int i = 0; i < 100 && !host_.valid(); ++i) {
      loop_.run_once(std::chrono::milliseconds(5));
      host_ = listener_.accept_one();
    }
    EXPECT_TRUE(host_.valid());
    return relay_next;
  }

  // The device fills the relay's buffer for a host that does not read, both
  // sides close (in either order), then the host reads: every byte arrives.
  void acknowledged_data_reaches_the_host(bool host_closes_first);

  RelayConfig config_;
  io::EventLoop loop_;
  FakeDevice device_;
  HostListener listener_;
  std::unique_ptr<ClientSession> session_;
  io::Fd host_;
  std::uint8_t relay_shift_ = 0;
};

TEST_P(TcpFlowTransfer, HostDataArrivesInOrderWhenTheDeviceAcks) {
  std::uint32_t expected_seq = establish();
  auto data = pattern(2 * 1024 * 1024);
  std::thread writer([&] {
    testing::send_all(host_.get(), data);
    io::shutdown_write(host_.get());
  });
  std::vector<std::uint8_t> received;
  bool fin = false;
  for (int i = 0; i < 20000 && !fin; ++i) {
    auto tcp = next_tcp();
    ASSERT_TRUE(tcp) << "stalled after " << received.size() << " bytes";
    if (tcp->payload().empty() && !(tcp->flags() & flag::kFin)) continue;
    ASSERT_EQ(tcp->seq(), expected_seq);
    EXPECT_LE(tcp->payload().size(), 1400u);  // the device's MSS
    received.insert(received.end(), tcp->payload().begin(), tcp->payload().end());
    expected_seq += static_cast<std::uint32_t>(tcp->payload().size());
    if (tcp->flags() & flag::kFin) {
      fin = true;
      ++expected_seq;
    }
    device_.send_tcp(segment(kDeviceIss + 1, expected_seq, flag::kAck, 4096));
  }
  writer.join();
  EXPECT_TRUE(fin);
  EXPECT_EQ(received.size(), data.size());
  EXPECT_TRUE(received == data);
}

TEST_P(TcpFlowTransfer, UnackedSegmentIsResentFromTheHostSocket) {
  std::uint32_t relay_next = establish();
  std::string message = "resend me please";
  ASSERT_EQ(testing::send_all(host_.get(), testing::as_bytes(message)), message.size());
  auto first = next_tcp();
  ASSERT_TRUE(first);
  ASSERT_EQ(first->payload().size(), message.size());
  // The device "loses" it: no ACK. After the RTO the same bytes come again.
  auto again = next_tcp();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->seq(), relay_next);
  EXPECT_EQ(std::string(again->payload().begin(), again->payload().end()), message);
  device_.send_tcp(segment(kDeviceIss + 1, relay_next + static_cast<std::uint32_t>(message.size()),
                           flag::kAck, 4096));
  std::string more = "and then more";
  ASSERT_EQ(testing::send_all(host_.get(), testing::as_bytes(more)), more.size());
  auto next = device_.next_tcp_skipping_pure_acks();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->seq(), relay_next + message.size());
  EXPECT_EQ(std::string(next->payload().begin(), next->payload().end()), more);
}

TEST_P(TcpFlowTransfer, DeviceFinBecomesHostEofAfterTheData) {
  std::uint32_t relay_next = establish();
  std::string request = "last words";
  device_.send_tcp(segment(kDeviceIss + 1, relay_next, flag::kAck | flag::kFin, 4096),
                   wire::Bytes{reinterpret_cast<const std::uint8_t*>(request.data()), request.size()});
  std::string received;
  bool eof = false;
  ASSERT_TRUE(device_.run_until([&] {
    std::uint8_t buffer[64];
    long n = testing::receive_now(host_.get(), buffer);
    if (n > 0) received.append(reinterpret_cast<const char*>(buffer), static_cast<std::size_t>(n));
    if (n == 0) eof = true;
    return eof;
  }));
  EXPECT_EQ(received, request);
  // The host can still answer after the device's half-close.
  std::string reply = "heard you";
  ASSERT_EQ(testing::send_all(host_.get(), testing::as_bytes(reply)), reply.size());
  auto data = device_.next_tcp_skipping_pure_acks();
  ASSERT_TRUE(data);
  EXPECT_EQ(data->ack(), kDeviceIss + 1 + request.size() + 1);
  EXPECT_EQ(std::string(data->payload().begin(), data->payload().end()), reply);
}

INSTANTIATE_TEST_SUITE_P(PeekModes, TcpFlowTransfer, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "PeekOffset" : "PeekCopy"; });

}  // namespace
}  // namespace rtether::relay

namespace rtether::relay {
namespace {

// Regression: a scaled window is rounded up, so the device may fill the
// advertised edge with a few bytes more than the free buffer; the relay must
// still take (and ACK) every byte, or the device's stream stalls.
TEST_P(TcpFlowTransfer, DeviceFillingTheAdvertisedWindowIsFullyAcked) {
  std::uint32_t relay_next = establish();
  // The host application never reads, so data piles up in the relay.
  io::set_buffer_sizes(host_.get(), 0, 4096);
  auto chunk = pattern(60000);
  std::uint32_t seq = kDeviceIss + 1;
  std::size_t length = 1000;
  for (int round = 0; round < 400 && length > 0; ++round) {
    device_.send_tcp(segment(seq, relay_next, flag::kAck, 4096), wire::Bytes{chunk.data(), length});
    seq += static_cast<std::uint32_t>(length);
    auto ack = next_tcp();
    ASSERT_TRUE(ack);
    ASSERT_EQ(ack->ack(), seq) << "bytes left unacknowledged in round " << round;
    // Send half the window at odd sizes (so the next ACK's edge is rounded
    // up past the free space), and fill a small window to its exact edge.
    std::uint32_t window = static_cast<std::uint32_t>(ack->window()) << relay_shift_;
    length = std::min<std::size_t>(window > 4000 ? window / 2 + 7 : window, chunk.size());
  }
  EXPECT_EQ(length, 0u) << "the window never closed";
}

// Regression (lost the last ~1 MiB of a full-duplex upload under load): data
// the relay acknowledged before the device's FIN still sits in the flow's
// queue when the endpoint closes (LAST-ACK acknowledged). The host must still
// get every byte, then EOF: the flow outlives its endpoint until it drains.
void TcpFlowTransfer::acknowledged_data_reaches_the_host(bool host_closes_first) {
  std::uint32_t relay_next = establish();
  // The host application does not read until the end.
  auto data = pattern(8 * 1024 * 1024);
  std::uint32_t seq = kDeviceIss + 1;
  std::size_t sent = 0;
  constexpr std::size_t kChunk = 60000;
  std::uint32_t window = kChunk;
  // Fill the relay's buffer to within a chunk of its window (a FIN needs a
  // window that is still open).
  for (int round = 0; round < 2000 && window >= kChunk && sent + kChunk <= data.size(); ++round) {
    device_.send_tcp(segment(seq, relay_next, flag::kAck, 4096),
                     wire::Bytes{data.data() + sent, kChunk});
    seq += static_cast<std::uint32_t>(kChunk);
    sent += kChunk;
    auto ack = next_tcp();
    ASSERT_TRUE(ack);
    ASSERT_EQ(ack->ack(), seq) << "bytes left unacknowledged in round " << round;
    window = static_cast<std::uint32_t>(ack->window()) << relay_shift_;
  }
  ASSERT_LT(window, kChunk) << "the window never closed, so nothing waits in the relay";
  ASSERT_GT(window, 0u);
  if (!host_closes_first) {
    // The device ends its side; the host ends its side without reading; the
    // device acknowledges the relay's FIN: the endpoint is CLOSED.
    device_.send_tcp(segment(seq, relay_next, flag::kAck | flag::kFin, 4096));
    io::shutdown_write(host_.get());
    auto fin = device_.next_tcp_skipping_pure_acks();
    ASSERT_TRUE(fin);
    ASSERT_TRUE(fin->flags() & flag::kFin);
    ASSERT_EQ(fin->ack(), seq + 1);
    device_.send_tcp(segment(seq + 1, relay_next + 1, flag::kAck, 4096));
  } else {
    // The host ends first, the device acknowledges that FIN, then sends its
    // own: the endpoint is in TIME-WAIT.
    io::shutdown_write(host_.get());
    auto fin = device_.next_tcp_skipping_pure_acks();
    ASSERT_TRUE(fin);
    ASSERT_TRUE(fin->flags() & flag::kFin);
    device_.send_tcp(segment(seq, relay_next + 1, flag::kAck, 4096));
    device_.send_tcp(segment(seq, relay_next + 1, flag::kAck | flag::kFin, 4096));
    auto ack = next_tcp();
    ASSERT_TRUE(ack);
    ASSERT_EQ(ack->ack(), seq + 1);
  }
  for (int i = 0; i < 20; ++i) loop_.run_once(std::chrono::milliseconds(2));
  io::set_buffer_sizes(host_.get(), 0, 4 * 1024 * 1024);  // now read it all, quickly
  std::vector<std::uint8_t> received;
  bool eof = false;
  ASSERT_TRUE(device_.run_until(
      [&] {
        std::uint8_t buffer[65536];
        while (true) {
          long n = testing::receive_now(host_.get(), buffer);
          if (n > 0) received.insert(received.end(), buffer, buffer + n);
          if (n == 0) eof = true;
          if (n <= 0) return eof;
        }
      },
      std::chrono::milliseconds(10000)))
      << "host got " << received.size() << " of " << sent << " bytes and no EOF";
  ASSERT_EQ(received.size(), sent);
  EXPECT_TRUE(std::equal(received.begin(), received.end(), data.begin()));
  EXPECT_EQ(session_->counters().tcp_host_drain_expired, 0u);
}

TEST_P(TcpFlowTransfer, AcknowledgedDataReachesTheHostAfterLastAck) {
  acknowledged_data_reaches_the_host(false);
}

TEST_P(TcpFlowTransfer, AcknowledgedDataReachesTheHostFromTimeWait) {
  acknowledged_data_reaches_the_host(true);
}

}  // namespace
}  // namespace rtether::relay

namespace rtether::relay {
namespace {

TEST_P(TcpFlowTransfer, OutOfOrderDeviceDataReachesTheHostInOrder) {
  std::uint32_t relay_next = establish();
  auto data = pattern(3000);
  auto part = [&](std::size_t offset, std::size_t size) {
    return wire::Bytes{data.data() + offset, size};
  };
  std::uint32_t base = kDeviceIss + 1;
  device_.send_tcp(segment(base + 2000, relay_next, flag::kAck, 4096), part(2000, 1000));
  device_.send_tcp(segment(base + 1000, relay_next, flag::kAck, 4096), part(1000, 1000));
  device_.send_tcp(segment(base, relay_next, flag::kAck, 4096), part(0, 1000));
  std::vector<std::uint8_t> received;
  ASSERT_TRUE(device_.run_until([&] {
    std::uint8_t buffer[4096];
    long n = testing::receive_now(host_.get(), buffer);
    if (n > 0) received.insert(received.end(), buffer, buffer + n);
    return received.size() >= data.size();
  }));
  EXPECT_TRUE(received == data);
  EXPECT_EQ(session_->counters().tcp_out_of_order, 2u);
  // The last ACK covers all three segments.
  device_.run_until([] { return false; }, std::chrono::milliseconds(50));
  std::uint32_t last_ack = 0;
  while (!device_.all_taken()) last_ack = next_tcp()->ack();
  EXPECT_EQ(last_ack, base + 3000);
}

}  // namespace
}  // namespace rtether::relay

namespace rtether::relay {
namespace {

TEST_P(TcpFlowTransfer, ClientBufferBudgetShrinksTheWindowAndIsCounted) {
  config_.client_buffer_budget = 64 * 1024;
  std::uint32_t relay_next = establish();
  io::set_buffer_sizes(host_.get(), 0, 4096);  // the host application never reads
  auto chunk = pattern(60000);
  std::uint32_t seq = kDeviceIss + 1;
  std::size_t length = 1000;
  std::uint32_t window = 1;
  for (int round = 0; round < 400 && window > 0; ++round) {
    device_.send_tcp(segment(seq, relay_next, flag::kAck, 4096), wire::Bytes{chunk.data(), length});
    seq += static_cast<std::uint32_t>(length);
    auto ack = next_tcp();
    ASSERT_TRUE(ack);
    ASSERT_EQ(ack->ack(), seq);
    window = static_cast<std::uint32_t>(ack->window()) << relay_shift_;
    length = std::min<std::size_t>(window, chunk.size());
  }
  EXPECT_EQ(window, 0u);
  EXPECT_GT(session_->counters().window_limited_by_budget, 0u);
  EXPECT_LT(session_->buffer_budget_left(), 1u << relay_shift_) << "the budget, not the flow buffer, closed the window";
}

}  // namespace
}  // namespace rtether::relay

namespace rtether::relay {
namespace {

TEST_P(TcpFlowTransfer, HostResponseAndCloseReachTheDeviceAsOneSegment) {
  std::uint32_t relay_next = establish();
  std::string reply = "response then close";
  ASSERT_EQ(testing::send_all(host_.get(), testing::as_bytes(reply)), reply.size());
  io::shutdown_write(host_.get());
  auto segment_seen = device_.next_tcp_skipping_pure_acks();
  ASSERT_TRUE(segment_seen);
  EXPECT_EQ(segment_seen->seq(), relay_next);
  EXPECT_EQ(std::string(segment_seen->payload().begin(), segment_seen->payload().end()), reply);
#ifdef _WIN32
  // Winsock tells of the peer's FIN only once the bytes before it are read
  // (WSAPoll says POLLHUP on an empty queue): the FIN follows the device's
  // ACK, in a segment of its own.
  device_.send_tcp(segment(kDeviceIss + 1, relay_next + static_cast<std::uint32_t>(reply.size()),
                           flag::kAck, 4096));
  auto fin = device_.next_tcp_skipping_pure_acks();
  ASSERT_TRUE(fin);
  EXPECT_TRUE(fin->flags() & flag::kFin);
  EXPECT_EQ(fin->seq(), relay_next + reply.size());
#else
  EXPECT_TRUE(segment_seen->flags() & flag::kFin) << "the FIN rides on the last data";
#endif
}

}  // namespace
}  // namespace rtether::relay
