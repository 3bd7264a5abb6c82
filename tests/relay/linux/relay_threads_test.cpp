// The relay on two loops (RelayConfig::threads = 2): sessions are spread
// over both, and what is read across them (client and device stats, totals,
// flow count) and forwarding into a session on the other loop are right;
// a device of two queues (attach_queues) has one session on each loop, and
// its forwarded connections alternate between them, each on a relay port
// its own queue gets the answers of.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <sys/socket.h>

#include "relay/fake_device.hpp"
#include "relay/forward_rule.hpp"
#include "relay/relay.hpp"

namespace rtether::relay {
namespace {

using testing::address;
namespace flag = wire::tcp_flag;

RelayConfig two_threads() {
  RelayConfig config;
  config.threads = 2;
  return config;
}

// One queue of a multi-queue tun, played by a SOCK_SEQPACKET socket (one
// message, one packet) that says which queue it is.
class QueueLink final : public DeviceLink {
 public:
  QueueLink(io::Fd fd, QueueSlot queue) : fd_(std::move(fd)), queue_(queue) {
    EXPECT_FALSE(io::set_nonblocking(fd_.get(), true));
  }
  int fd() const override { return fd_.get(); }
  bool is_stream() const override { return false; }
  QueueSlot queue() const override { return queue_; }
  LinkRead read(PacketSink& sink, int budget, bool) override {
    std::uint8_t packet[65536];
    for (int i = 0; i < budget; ++i) {
      long got = ::recv(fd_.get(), packet, sizeof packet, 0);
      if (got == 0) return {LinkRead::Status::Ended, "closed"};
      if (got < 0) return {LinkRead::Status::Drained};
      if (!sink.on_packet({packet, static_cast<std::size_t>(got)}))
        return {LinkRead::Status::Stopped};
    }
    return {LinkRead::Status::BudgetUsed};
  }
  LinkSend send(wire::Bytes queued) override {
    LinkSend sent;
    while (sent.consumed < queued.size()) {
      auto length = wire::ip_packet_length(queued.subspan(sent.consumed)).length;
      if (length == 0) break;
      if (::send(fd_.get(), queued.data() + sent.consumed, length, MSG_NOSIGNAL) < 0) {
        sent.blocked = true;
        break;
      }
      sent.consumed += length;
    }
    return sent;
  }

 private:
  io::Fd fd_;
  QueueSlot queue_;
};

class RelayThreadsTest : public ::testing::Test {
 protected:
  RelayThreadsTest() : relay_(loop_, two_threads()) {}

  bool turn_until(const std::function<bool()>& done,
                  std::chrono::milliseconds bound = std::chrono::milliseconds(5000)) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (!done() && std::chrono::steady_clock::now() < deadline)
      loop_.run_once(std::chrono::milliseconds(5));
    return done();
  }

  io::Fd connect_client(const io::Endpoint& at) {
    const std::size_t before = relay_.client_count();
    auto connection = io::connect_nonblocking(io::Transport::Tcp, at);
    if (!connection) throw std::system_error(connection.error(), "connect to the relay");
    EXPECT_TRUE(turn_until([&] { return relay_.client_count() == before + 1; }));
    return std::move(connection->fd);
  }

  void send_stray_acks(const io::Fd& client, int count) {
    for (int i = 0; i < count; ++i) {
      std::vector<std::uint8_t> packet(200);
      std::size_t length = wire::build_tcp(
          packet, testing::device_tcp(static_cast<std::uint16_t>(40000 + i), 80, 1, 1, flag::kAck),
          {});
      ASSERT_EQ(testing::send_all(client.get(), {packet.data(), length}), length);
    }
  }

  // Whether `client` was sent a TCP SYN to `port` (after its 4-byte id).
  bool got_syn_to(const io::Fd& client, std::uint16_t port, std::chrono::milliseconds bound) {
    std::vector<std::uint8_t> stream;
    return turn_until([&] {
      std::uint8_t buffer[4096];
      for (long got; (got = testing::receive_now(client.get(), {buffer, sizeof buffer})) > 0;)
        stream.insert(stream.end(), buffer, buffer + got);
      if (stream.size() <= 4) return false;
      auto ip = wire::parse_ip(wire::Bytes{stream.data() + 4, stream.size() - 4});
      if (!ip.packet) return false;
      auto tcp = wire::TcpView::parse(ip.packet->payload);
      return tcp && tcp->flags() == flag::kSyn && tcp->destination_port() == port;
    }, bound);
  }

  io::Endpoint loopback_any_port() const { return io::Endpoint{address("127.0.0.1"), 0}; }

  // A forward "tcp:FREEPORT:DEVICEPORT@1" added to the relay.
  std::optional<ForwardRule> add_forward_to_client_1(std::uint16_t device_port) {
    testing::HostListener taken;  // a free port: closed before the forward opens it
    std::uint16_t port = taken.port;
    taken.fd.reset();
    std::string error;
    auto rule = parse_forward_rule(
        "tcp:" + std::to_string(port) + ":" + std::to_string(device_port) + "@1", error);
    EXPECT_TRUE(rule) << error;
    if (rule) relay_.add_forward(*rule);
    return rule;
  }

  io::EventLoop loop_;
  Relay relay_;
};

TEST_F(RelayThreadsTest, SessionsAreSpreadOverBothLoops) {
  ASSERT_EQ(relay_.thread_count(), 2u);
  io::Endpoint at = relay_.listen_tcp(loopback_any_port());
  io::Fd first = connect_client(at);
  io::Fd second = connect_client(at);
  EXPECT_EQ(relay_.sessions_per_thread(), (std::vector<std::size_t>{1, 1}));
  io::Fd third = connect_client(at);
  auto spread = relay_.sessions_per_thread();
  EXPECT_EQ(spread[0] + spread[1], 3u);
  EXPECT_GE(spread[0], 1u);
  EXPECT_GE(spread[1], 1u);
}

TEST_F(RelayThreadsTest, StatsAddUpTheSessionsOfEveryLoop) {
  io::Endpoint a = relay_.listen_tcp(loopback_any_port(), "SERIAL-A");
  io::Endpoint plain = relay_.listen_tcp(loopback_any_port());
  io::Fd client_a = connect_client(a);       // loop 0
  io::Fd client_plain = connect_client(plain);  // loop 1
  send_stray_acks(client_a, 2);
  send_stray_acks(client_plain, 3);
  ASSERT_TRUE(turn_until([&] { return relay_.totals().packets_from_device == 5; }));
  auto clients = relay_.client_stats();
  ASSERT_EQ(clients.size(), 2u);
  EXPECT_EQ(clients[0].id, 0u);
  EXPECT_EQ(clients[0].serial, "SERIAL-A");
  EXPECT_EQ(clients[0].packets_from_device, 2u);
  EXPECT_EQ(clients[1].id, 1u);
  EXPECT_EQ(clients[1].packets_from_device, 3u);
  EXPECT_EQ(relay_.totals().drop_no_flow, 5u);

  // Gone from the second loop: its counters stay in the totals.
  client_plain.reset();
  ASSERT_TRUE(turn_until([&] { return relay_.client_count() == 1; }));
  EXPECT_EQ(relay_.totals().packets_from_device, 5u);
  EXPECT_EQ(relay_.client_stats().size(), 1u);

  // A reconnect of SERIAL-A lands on the emptier loop; its device adds both.
  client_a.reset();
  ASSERT_TRUE(turn_until([&] { return relay_.client_count() == 0; }));
  io::Fd again = connect_client(a);
  send_stray_acks(again, 1);
  ASSERT_TRUE(turn_until([&] { return relay_.totals().packets_from_device == 6; }));
  auto devices = relay_.device_stats();
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_TRUE(devices[0].connected);
  EXPECT_EQ(devices[0].client_id, 2u);
  EXPECT_EQ(devices[0].connections, 2u);
  EXPECT_EQ(devices[0].counters.packets_from_device, 3u);
  EXPECT_EQ(relay_.flow_count(), 0u);
}

TEST_F(RelayThreadsTest, AForwardReachesASessionOnTheOtherLoop) {
  io::Endpoint at = relay_.listen_tcp(loopback_any_port());
  io::Fd on_first = connect_client(at);
  io::Fd on_second = connect_client(at);
  ASSERT_EQ(relay_.sessions_per_thread(), (std::vector<std::size_t>{1, 1}));
  // Client 1 is the second one, on the relay's own loop 1.
  auto rule = add_forward_to_client_1(2222);
  ASSERT_TRUE(rule);
  auto host = io::connect_nonblocking(io::Transport::Tcp, rule->listen);
  ASSERT_TRUE(host);
  EXPECT_TRUE(got_syn_to(on_second, 2222, std::chrono::milliseconds(3000)));
  EXPECT_TRUE(turn_until([&] { return relay_.flow_count() == 1; }));
  EXPECT_FALSE(got_syn_to(on_first, 2222, std::chrono::milliseconds(200)));
  // Removing the rule ends that flow on the other loop.
  EXPECT_TRUE(relay_.remove_forward(*rule));
  EXPECT_TRUE(turn_until([&] { return relay_.flow_count() == 0; }));
}

TEST_F(RelayThreadsTest, AForwardAlternatesOverADevicesQueuesEachOnAPortOfItsOwnQueue) {
  io::Fd device_ends[2];
  std::vector<std::unique_ptr<DeviceLink>> links;
  for (std::uint16_t queue = 0; queue < 2; ++queue) {
    int pair[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
    device_ends[queue] = io::Fd(pair[0]);
    links.push_back(std::make_unique<QueueLink>(io::Fd(pair[1]), QueueSlot{queue, 2}));
  }
  relay_.attach_queues(std::move(links), nullptr);
  ASSERT_TRUE(turn_until([&] { return relay_.client_count() == 2; }));
  EXPECT_EQ(relay_.sessions_per_thread(), (std::vector<std::size_t>{1, 1}));
  // @1 names the device's second queue: still the device, both queues.
  auto rule = add_forward_to_client_1(2222);
  ASSERT_TRUE(rule);
  std::vector<io::Fd> hosts;
  int syns[2] = {0, 0};
  for (int connection = 0; connection < 8; ++connection) {
    auto host = io::connect_nonblocking(io::Transport::Tcp, rule->listen);
    ASSERT_TRUE(host);
    hosts.push_back(std::move(host->fd));
    // The SYN comes on one queue; its relay port is one that queue owns.
    std::optional<int> on;
    bool well_formed = true;
    ASSERT_TRUE(turn_until([&]() -> bool {
      for (int queue = 0; queue < 2 && !on; ++queue) {
        std::uint8_t packet[4096];
        long got = testing::receive_now(device_ends[queue].get(), {packet, sizeof packet});
        if (got <= 0) continue;
        auto ip = wire::parse_ip(wire::Bytes{packet, static_cast<std::size_t>(got)});
        auto tcp = ip.packet ? wire::TcpView::parse(ip.packet->payload) : std::nullopt;
        if (!tcp || tcp->flags() != flag::kSyn || tcp->destination_port() != 2222) {
          well_formed = false;
          return true;
        }
        FlowKey key{ip.packet->destination, ip.packet->source, 2222, tcp->source_port(),
                    wire::ip_protocol::kTcp};
        EXPECT_TRUE((QueueSlot{static_cast<std::uint16_t>(queue), 2}.owns(key)))
            << "relay port " << tcp->source_port() << " on queue " << queue;
        on = queue;
      }
      return on.has_value();
    })) << "connection " << connection;
    ASSERT_TRUE(well_formed && on) << "connection " << connection << ": not a SYN to 2222";
    ++syns[*on];
  }
  EXPECT_EQ(syns[0], 4);
  EXPECT_EQ(syns[1], 4);
  EXPECT_TRUE(turn_until([&] { return relay_.flow_count() == 8; }));
}

}  // namespace
}  // namespace rtether::relay
