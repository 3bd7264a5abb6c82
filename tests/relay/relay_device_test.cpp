// Device identity in the relay: a client accepted on a listener labelled
// with an adb serial carries that serial; the serial's totals add up all
// its clients, gone ones included, and count its reconnects; clients of an
// unlabelled listener have no serial and no device entry.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "relay/fake_device.hpp"
#include "relay/forward_rule.hpp"
#include "relay/relay.hpp"

namespace rtether::relay {
namespace {

using testing::address;
namespace flag = wire::tcp_flag;

class RelayDeviceTest : public ::testing::Test {
 protected:
  RelayDeviceTest() : relay_(loop_, RelayConfig{}) {}

  bool turn_until(const std::function<bool()>& done,
                  std::chrono::milliseconds bound = std::chrono::milliseconds(3000)) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (!done() && std::chrono::steady_clock::now() < deadline)
      loop_.run_once(std::chrono::milliseconds(5));
    return done();
  }

  // A client connected to `at`, once the relay accepted it.
  io::Fd connect_client(const io::Endpoint& at) {
    const std::size_t before = relay_.client_count();
    auto connection = io::connect_nonblocking(io::Transport::Tcp, at);
    if (!connection) throw std::system_error(connection.error(), "connect to the relay");
    EXPECT_TRUE(turn_until([&] { return relay_.client_count() == before + 1; }));
    return std::move(connection->fd);
  }

  // A segment for no flow: counted from the device, answered with a reset.
  void send_stray_ack(const io::Fd& client) {
    std::vector<std::uint8_t> packet(200);
    std::size_t length =
        wire::build_tcp(packet, testing::device_tcp(40000, 80, 1, 1, flag::kAck), {});
    ASSERT_EQ(testing::send_all(client.get(), {packet.data(), length}), length);
  }

  void close_client(io::Fd& client) {
    const std::size_t before = relay_.client_count();
    client.reset();
    EXPECT_TRUE(turn_until([&] { return relay_.client_count() == before - 1; }));
  }

  // The device port of the first TCP SYN the relay sent `client` (after
  // its 4-byte client id), once one came.
  std::optional<std::uint16_t> syn_port(const io::Fd& client, std::chrono::milliseconds bound) {
    std::vector<std::uint8_t> stream;
    std::optional<std::uint16_t> port;
    turn_until([&] {
      std::uint8_t buffer[4096];
      for (long got; (got = testing::receive_now(client.get(), {buffer, sizeof buffer})) > 0;)
        stream.insert(stream.end(), buffer, buffer + got);
      if (stream.size() <= 4) return false;
      auto ip = wire::parse_ip(wire::Bytes{stream.data() + 4, stream.size() - 4});
      if (!ip.packet) return false;
      auto tcp = wire::TcpView::parse(ip.packet->payload);
      if (tcp && tcp->flags() == flag::kSyn) port = tcp->destination_port();
      return true;
    }, bound);
    return port;
  }

  std::vector<DeviceStats> devices() const { return relay_.device_stats(); }

  // The id of the session with_session_of_serial picks, if any.
  std::optional<std::uint32_t> session_of_serial(const std::string& serial) {
    std::optional<std::uint32_t> id;
    relay_.with_session_of_serial(serial, [&](ClientSession& session) { id = session.id(); });
    return id;
  }

  io::Endpoint loopback_any_port() const { return io::Endpoint{address("127.0.0.1"), 0}; }

  io::EventLoop loop_;
  Relay relay_;
};

TEST_F(RelayDeviceTest, ALabelledListenerIsADeviceBeforeAnyClient) {
  io::Endpoint at = relay_.listen_tcp(loopback_any_port(), "SERIAL-A");
  EXPECT_NE(at.port, 0);
  auto stats = devices();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].serial, "SERIAL-A");
  EXPECT_FALSE(stats[0].connected);
  EXPECT_EQ(stats[0].connections, 0u);
}

TEST_F(RelayDeviceTest, AClientCarriesTheSerialOfItsListener) {
  io::Endpoint a = relay_.listen_tcp(loopback_any_port(), "SERIAL-A");
  io::Endpoint b = relay_.listen_tcp(loopback_any_port(), "198.51.100.2:5555");
  io::Endpoint plain = relay_.listen_tcp(loopback_any_port());
  io::Fd client_b = connect_client(b);
  io::Fd client_plain = connect_client(plain);
  io::Fd client_a = connect_client(a);
  auto clients = relay_.client_stats();
  ASSERT_EQ(clients.size(), 3u);
  EXPECT_EQ(clients[0].serial, "198.51.100.2:5555");
  EXPECT_EQ(clients[1].serial, "");
  EXPECT_EQ(clients[2].serial, "SERIAL-A");
  EXPECT_EQ(session_of_serial("SERIAL-A"), 2u);
  EXPECT_EQ(session_of_serial("198.51.100.2:5555"), 0u);
  EXPECT_EQ(session_of_serial("SERIAL-C"), std::nullopt);
  auto stats = devices();
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[0].serial, "198.51.100.2:5555");
  EXPECT_TRUE(stats[0].connected);
  EXPECT_EQ(stats[0].client_id, 0u);
  EXPECT_EQ(stats[1].serial, "SERIAL-A");
  EXPECT_EQ(stats[1].client_id, 2u);
}

TEST_F(RelayDeviceTest, TotalsSurviveAReconnectAndCountIt) {
  io::Endpoint at = relay_.listen_tcp(loopback_any_port(), "SERIAL-A");
  io::Fd first = connect_client(at);
  send_stray_ack(first);
  ASSERT_TRUE(turn_until([&] { return relay_.totals().packets_from_device == 1; }));
  close_client(first);
  auto gone = devices();
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_FALSE(gone[0].connected);
  EXPECT_EQ(gone[0].counters.packets_from_device, 1u);
  EXPECT_EQ(gone[0].counters.drop_no_flow, 1u);
  EXPECT_EQ(gone[0].reconnects, 0u);

  io::Fd second = connect_client(at);
  send_stray_ack(second);
  send_stray_ack(second);
  ASSERT_TRUE(turn_until([&] { return relay_.totals().packets_from_device == 3; }));
  auto back = devices();
  ASSERT_EQ(back.size(), 1u);
  EXPECT_TRUE(back[0].connected);
  EXPECT_EQ(back[0].client_id, 1u);
  EXPECT_EQ(back[0].connections, 2u);
  EXPECT_EQ(back[0].reconnects, 1u);
  EXPECT_EQ(back[0].counters.packets_from_device, 3u);
  EXPECT_EQ(back[0].counters.packets_to_device, 3u);  // one reset each
  EXPECT_EQ(back[0].counters.bytes_from_device, 3u * 40u);
  // The live client's own figures are its own only.
  auto clients = relay_.client_stats();
  ASSERT_EQ(clients.size(), 1u);
  EXPECT_EQ(clients[0].packets_from_device, 2u);
}

TEST_F(RelayDeviceTest, AForwardToASerialReachesThatDevice) {
  io::Endpoint a = relay_.listen_tcp(loopback_any_port(), "SERIAL-A");
  io::Endpoint b = relay_.listen_tcp(loopback_any_port(), "SERIAL-B");
  io::Fd client_a = connect_client(a);
  io::Fd client_b = connect_client(b);
  // Without a target the most recent (B) would be reached: name A.
  std::string error;
  auto rule = parse_forward_rule("tcp:0:2222@SERIAL-A", error);
  ASSERT_FALSE(rule) << "port 0 is refused by the grammar";
  testing::HostListener taken;  // a free port: closed before the forward opens it
  std::uint16_t port = taken.port;
  taken.fd.reset();
  rule = parse_forward_rule("tcp:" + std::to_string(port) + ":2222@SERIAL-A", error);
  ASSERT_TRUE(rule) << error;
  relay_.add_forward(*rule);
  auto host = io::connect_nonblocking(io::Transport::Tcp, rule->listen);
  ASSERT_TRUE(host);
  EXPECT_EQ(syn_port(client_a, std::chrono::milliseconds(3000)), std::optional<std::uint16_t>(2222));
  EXPECT_EQ(syn_port(client_b, std::chrono::milliseconds(200)), std::nullopt);
}

TEST(RelayConfigOutbound, AClientIdWinsOverItsSerialWhichWinsOverTheRelayWide) {
  RelayConfig config;
  config.outbound.interface_name = "all";
  config.serial_outbound["SERIAL-A"].interface_name = "serial";
  config.client_outbound[4].interface_name = "client";
  EXPECT_EQ(config.outbound_for(4, "SERIAL-A").interface_name, "client");
  EXPECT_EQ(config.outbound_for(5, "SERIAL-A").interface_name, "serial");
  EXPECT_EQ(config.outbound_for(5, "SERIAL-B").interface_name, "all");
  EXPECT_EQ(config.outbound_for(5).interface_name, "all");
}

TEST_F(RelayDeviceTest, UnlabelledClientsMakeNoDevice) {
  io::Endpoint plain = relay_.listen_tcp(loopback_any_port());
  io::Fd client = connect_client(plain);
  send_stray_ack(client);
  ASSERT_TRUE(turn_until([&] { return relay_.totals().packets_from_device == 1; }));
  close_client(client);
  EXPECT_TRUE(devices().empty());
  EXPECT_EQ(relay_.totals().packets_from_device, 1u);
}

}  // namespace
}  // namespace rtether::relay
