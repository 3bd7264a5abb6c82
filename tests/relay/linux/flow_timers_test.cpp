// Flow timers on a manual clock: UDP and ICMP idle expiry, the TCP drain
// limit, TIME-WAIT, SYN-ACK retransmission with back-off and the delayed
// ACK, each checked just before and just after its deadline. The session
// runs on an io::ManualClock, so minutes of relay time take milliseconds;
// the device is a FakeDevice and the hosts are real loopback sockets.
// Only io/ calls, but run on Linux only: under Wine 8 a socket closed with
// SO_LINGER 0 ends with a FIN, not the reset the drain limit test checks.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

#include "io/clock.hpp"
#include "io/datagram.hpp"
#include "relay/client_session.hpp"
#include "relay/fake_device.hpp"

namespace rtether::relay {
namespace {

using namespace std::chrono_literals;
using testing::address;
using testing::echo_request;
using testing::FakeDevice;
using testing::FakePingSocket;
using testing::HostListener;
namespace flag = wire::tcp_flag;

constexpr std::uint16_t kDevicePort = 42000;
constexpr std::uint32_t kDeviceIss = 5000;

wire::Bytes bytes_of(const std::string& text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

class FlowTimers : public ::testing::Test {
 protected:
  FlowTimers() {
    // While a test waits for packets, relay time moves 1 ms per loop turn:
    // enough for the 500 us delayed ACK, nothing against the timers tested.
    device_.on_each_turn([this] { clock_.advance(1ms); });
  }

  void start() {
    session_ = std::make_unique<ClientSession>(loop_, device_.take_relay_end(), 0, config_,
                                               [](std::uint32_t) {});
    session_->start();
    ASSERT_TRUE(device_.run_until([&] { return device_.client_id().has_value(); }));
  }

  // Moves relay time by `by` at once; timers that fell due fire and their
  // packets reach the device, with no more time passing.
  void jump(std::chrono::steady_clock::duration by) {
    clock_.advance(by);
    for (int i = 0; i < 5; ++i) device_.turn();
  }

  wire::TcpSegmentHeader segment(std::uint32_t seq, std::uint32_t ack, std::uint8_t flags,
                                 std::uint16_t window = 4096) {
    return testing::device_tcp(kDevicePort, listener_.port, seq, ack, flags, window);
  }

  // SYN, SYN-ACK, ACK with window scaling (the device's 4096 << 7 = 512 KiB
  // window); returns the relay's next sequence number.
  std::uint32_t establish() {
    start();
    auto syn = segment(kDeviceIss, 0, flag::kSyn, 65535);
    syn.window_scale = 7;
    device_.send_tcp(syn);
    auto syn_ack = device_.next_tcp();
    EXPECT_TRUE(syn_ack);
    if (!syn_ack) return 0;
    relay_shift_ = syn_ack->options().window_scale.value_or(0);
    const std::uint32_t relay_next = syn_ack->seq() + 1;
    device_.send_tcp(segment(kDeviceIss + 1, relay_next, flag::kAck));
    EXPECT_TRUE(device_.run_until([&] { return (host_ = listener_.accept_one()).valid(); }));
    return relay_next;
  }

  // establish(), then the host closes first and the device answers its
  // FIN with its own: the relay's side ends in TIME-WAIT. Returns the
  // relay's ACK of the device's FIN (nullopt, with a failure, if none came).
  std::optional<wire::TcpView> close_into_time_wait() {
    const std::uint32_t relay_next = establish();
    io::shutdown_write(host_.get());
    auto fin = device_.next_tcp_skipping_pure_acks();
    EXPECT_TRUE(fin && (fin->flags() & flag::kFin));
    if (!fin) return std::nullopt;
    device_.send_tcp(segment(kDeviceIss + 1, relay_next + 1, flag::kAck | flag::kFin));
    auto ack = device_.next_tcp();
    EXPECT_TRUE(ack);
    if (ack) {
      EXPECT_EQ(ack->ack(), kDeviceIss + 2);
    }
    EXPECT_TRUE(device_.run_until([&] { return session_->live_flow_count() == 0; }));
    return ack;
  }

  io::ManualClock clock_;
  io::EventLoop loop_{clock_};
  FakeDevice device_{loop_};
  RelayConfig config_;
  std::unique_ptr<ClientSession> session_;
  HostListener listener_;
  io::Fd host_;
  std::uint8_t relay_shift_ = 0;
};

// Reads one datagram from a host socket within the device's wait bound.
bool host_receives(FakeDevice& device, int fd, std::string& text) {
  return device.run_until([&] {
    std::uint8_t buffer[256];
    long got = testing::receive_now(fd, buffer);
    if (got >= 0) text.assign(reinterpret_cast<const char*>(buffer), static_cast<std::size_t>(got));
    return got >= 0;
  });
}

TEST_F(FlowTimers, UdpFlowExpiresAfterItsIdleTimeoutCountedFromTheLastDatagram) {
  ASSERT_EQ(config_.udp_idle_timeout, 120s);
  start();
  io::Fd server = io::bind_udp({address("127.0.0.1"), 0});
  wire::UdpDatagramHeader header;
  header.source = address("10.0.0.2");
  header.destination = address("10.0.2.2");
  header.source_port = kDevicePort;
  header.destination_port = io::local_endpoint(server.get())->port;
  device_.send_udp(header, bytes_of("first"));
  std::string text;
  ASSERT_TRUE(host_receives(device_, server.get(), text));
  EXPECT_EQ(text, "first");
  ASSERT_EQ(session_->flow_count(), 1u);

  jump(100s);
  device_.send_udp(header, bytes_of("second"));  // traffic restarts the idle time
  ASSERT_TRUE(host_receives(device_, server.get(), text));
  EXPECT_EQ(text, "second");
  jump(119s);
  EXPECT_EQ(session_->flow_count(), 1u) << "219 s since the first datagram, 119 s idle";
  EXPECT_EQ(session_->counters().flows_expired, 0u);
  jump(2s);
  EXPECT_EQ(session_->flow_count(), 0u) << "121 s idle";
  EXPECT_EQ(session_->counters().flows_expired, 1u);
}

// The echo socket is a datagram socketpair whose other end plays the
// host kernel, so the test runs whatever net.ipv4.ping_group_range says.
TEST_F(FlowTimers, IcmpEchoFlowExpiresAfterItsIdleTimeoutCountedFromTheLastReply) {
  ASSERT_EQ(config_.icmp_idle_timeout, 60s);
  FakePingSocket ping;
  config_.open_ping_socket = ping.opener();
  start();
  device_.send_bytes(echo_request("10.0.0.2", "192.0.2.1", 0x77, 1, "ping"));
  std::uint8_t request[256];
  long got = -1;
  ASSERT_TRUE(device_.run_until([&] {
    got = testing::receive_now(ping.kernel_end.get(), request);
    return got > 0;
  }));
  ASSERT_EQ(session_->flow_count(), 1u);

  jump(40s);
  request[0] = wire::icmp_type::kEchoReply;  // the host answers late: activity too
  ASSERT_EQ(testing::send_all(ping.kernel_end.get(), {request, static_cast<std::size_t>(got)}),
            static_cast<std::size_t>(got));
  ASSERT_TRUE(device_.run_until([&] { return !device_.all_taken(); }));
  jump(59s);
  EXPECT_EQ(session_->flow_count(), 1u) << "99 s since the request, 59 s since the reply";
  EXPECT_EQ(session_->counters().flows_expired, 0u);
  jump(2s);
  EXPECT_EQ(session_->flow_count(), 0u);
  EXPECT_EQ(session_->counters().flows_expired, 1u);
  EXPECT_EQ(ping.opened, 1);
}

// Data the relay acknowledged before the device's FIN waits for a host
// that does not read; 60 s after both sides finished, the host is reset.
TEST_F(FlowTimers, DataTheHostNeverReadsIsDroppedWithAResetAfterTheDrainLimit) {
  const std::uint32_t relay_next = establish();
  io::set_buffer_sizes(host_.get(), 0, 4096);  // the host application does not read
  std::vector<std::uint8_t> chunk(60000, 0x5a);
  std::uint32_t seq = kDeviceIss + 1;
  std::uint32_t window = static_cast<std::uint32_t>(chunk.size());
  for (int round = 0; round < 200 && window >= chunk.size(); ++round) {
    device_.send_tcp(segment(seq, relay_next, flag::kAck), chunk);
    seq += static_cast<std::uint32_t>(chunk.size());
    auto ack = device_.next_tcp();
    ASSERT_TRUE(ack);
    ASSERT_EQ(ack->ack(), seq);
    window = static_cast<std::uint32_t>(ack->window()) << relay_shift_;
  }
  ASSERT_LT(window, chunk.size()) << "nothing waits in the relay";
  // Both sides finish: the endpoint is CLOSED, the flow still owes the host.
  device_.send_tcp(segment(seq, relay_next, flag::kAck | flag::kFin));
  io::shutdown_write(host_.get());
  auto fin = device_.next_tcp_skipping_pure_acks();
  ASSERT_TRUE(fin);
  ASSERT_TRUE(fin->flags() & flag::kFin);
  device_.send_tcp(segment(seq + 1, relay_next + 1, flag::kAck));
  device_.run_until([] { return false; }, 20ms);
  ASSERT_EQ(session_->flow_count(), 1u);

  jump(59s);
  EXPECT_EQ(session_->flow_count(), 1u);
  EXPECT_EQ(session_->counters().tcp_host_drain_expired, 0u);
  jump(2s);
  EXPECT_EQ(session_->flow_count(), 0u);
  EXPECT_EQ(session_->counters().tcp_host_drain_expired, 1u);
  // The host application finds a reset, not a clean end of the stream.
  io::set_buffer_sizes(host_.get(), 0, 4 * 1024 * 1024);
  io::Result<std::size_t> got = std::size_t{1};
  for (int reads = 0; reads < 100000 && got && *got > 0; ++reads) {
    std::uint8_t buffer[65536];
    got = io::recv_some(host_.get(), buffer);
  }
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), std::errc::connection_reset);
}

TEST_F(FlowTimers, TimeWaitEndsAfterItsTimeAndTheFlowGoes) {
  ASSERT_TRUE(close_into_time_wait());
  EXPECT_EQ(session_->flow_count(), 1u) << "kept to re-acknowledge a retransmitted FIN";

  const auto time_wait = config_.tcp.time_wait;
  jump(time_wait - 100ms);
  EXPECT_EQ(session_->flow_count(), 1u);
  jump(200ms);
  EXPECT_EQ(session_->flow_count(), 0u);
  EXPECT_EQ(session_->counters().flows_expired, 0u) << "the end of TIME-WAIT is a normal close";
}

// The flow left in TIME-WAIT is the compact TimeWaitFlow: it still answers
// a retransmitted FIN (our ACK was lost) with the same ACK, and 2 MSL
// starts again from it.
TEST_F(FlowTimers, RetransmittedFinInTimeWaitIsAckedAgainAndRestartsIt) {
  auto first = close_into_time_wait();
  ASSERT_TRUE(first);
  const auto time_wait = config_.tcp.time_wait;
  jump(time_wait - 200ms);
  device_.send_tcp(segment(kDeviceIss + 1, first->seq(), flag::kAck | flag::kFin));
  auto again = device_.next_tcp();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->flags(), flag::kAck);
  EXPECT_EQ(again->seq(), first->seq());
  EXPECT_EQ(again->ack(), first->ack());
  EXPECT_EQ(again->window(), first->window());
  jump(400ms);
  EXPECT_EQ(session_->flow_count(), 1u) << "2 MSL restarted with the retransmitted FIN";
  jump(time_wait);
  EXPECT_EQ(session_->flow_count(), 0u);
  EXPECT_EQ(session_->counters().flows_expired, 0u);
}

// An exact RST from the device ends TIME-WAIT at once, without an answer.
TEST_F(FlowTimers, ResetInTimeWaitEndsItSilently) {
  ASSERT_TRUE(close_into_time_wait());
  ASSERT_EQ(session_->flow_count(), 1u);
  device_.send_tcp(segment(kDeviceIss + 2, 0, flag::kRst));
  ASSERT_TRUE(device_.run_until([&] { return session_->flow_count() == 0; }));
  EXPECT_TRUE(device_.all_taken());
}

// RFC 9293 3.8.1 / RFC 6298 5.5: an unanswered SYN-ACK is resent after
// syn_ack_timeout, doubling each time; after syn_ack_retries the flow gives
// up with a reset.
TEST_F(FlowTimers, UnansweredSynAckIsResentWithDoublingIntervalsThenReset) {
  ASSERT_EQ(config_.tcp.syn_ack_timeout, 1s);
  ASSERT_EQ(config_.tcp.syn_ack_retries, 5);
  start();
  device_.send_tcp(segment(kDeviceIss, 0, flag::kSyn, 65535));
  auto first = device_.next_tcp();
  ASSERT_TRUE(first);
  ASSERT_EQ(first->flags(), flag::kSyn | flag::kAck);
  const std::uint32_t relay_iss = first->seq();
  auto interval = std::chrono::duration_cast<std::chrono::milliseconds>(
      config_.tcp.syn_ack_timeout);
  for (int retry = 1; retry <= config_.tcp.syn_ack_retries; ++retry) {
    jump(interval - 50ms);
    EXPECT_TRUE(device_.all_taken()) << "retry " << retry << " came early";
    jump(100ms);
    auto again = device_.next_tcp();
    ASSERT_TRUE(again) << "retry " << retry;
    EXPECT_EQ(again->flags(), flag::kSyn | flag::kAck);
    EXPECT_EQ(again->seq(), relay_iss);
    EXPECT_EQ(again->ack(), kDeviceIss + 1);
    EXPECT_TRUE(device_.all_taken());
    interval *= 2;
  }
  jump(interval - 50ms);
  EXPECT_TRUE(device_.all_taken());
  EXPECT_EQ(session_->flow_count(), 1u);
  jump(100ms);
  auto reset = device_.next_tcp();
  ASSERT_TRUE(reset);
  EXPECT_TRUE(reset->flags() & flag::kRst);
  EXPECT_EQ(session_->flow_count(), 0u);
  EXPECT_EQ(session_->counters().flows_expired, 1u);
}

// A lone data segment's ACK waits config.tcp.delayed_ack for host data to
// carry it, then goes alone.
TEST_F(FlowTimers, AckOfALoneSegmentWaitsForTheDelayedAckTime) {
  ASSERT_EQ(config_.tcp.delayed_ack, 500us);
  const std::uint32_t relay_next = establish();
  device_.on_each_turn(nullptr);  // from here relay time moves only by jump()
  ASSERT_TRUE(device_.all_taken());
  const std::string request = "request";
  device_.send_tcp(segment(kDeviceIss + 1, relay_next, flag::kAck), bytes_of(request));
  std::string received;
  ASSERT_TRUE(device_.run_until([&] {
    std::uint8_t buffer[64];
    long got = testing::receive_now(host_.get(), buffer);
    if (got > 0) received.append(reinterpret_cast<const char*>(buffer), static_cast<std::size_t>(got));
    return received.size() == request.size();
  }));
  EXPECT_TRUE(device_.all_taken()) << "acknowledged at once";
  jump(400us);
  EXPECT_TRUE(device_.all_taken()) << "acknowledged early";
  jump(100us);
  auto ack = device_.next_tcp();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->flags(), flag::kAck);
  EXPECT_EQ(ack->ack(), kDeviceIss + 1 + request.size());
  EXPECT_TRUE(ack->payload().empty());
}

}  // namespace
}  // namespace rtether::relay
