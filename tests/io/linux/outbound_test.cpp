// io/outbound.hpp on Linux: sockets leave from the chosen loopback address
// (127.0.0.2; all of 127.0.0.0/8 is local), over TCP and UDP, and the
// start-up check names what fails. (Ping sockets need ping_group_range,
// which only a namespace of a test's own may set: tests/e2e/test_egress.py.)
#include "io/outbound.hpp"

#include <gtest/gtest.h>
namespace rtether::io {
namespace {

wire::IpAddress address(const char* text) {
  wire::IpAddress parsed;
  EXPECT_TRUE(wire::IpAddress::parse(text, parsed)) << text;
  return parsed;
}

Outbound from(const char* text) {
  Outbound outbound;
  outbound.address_v4 = address(text);
  return outbound;
}

TEST(Outbound, TcpAndUdpLeaveFromTheChosenAddress) {
  for (auto transport : {Transport::Tcp, Transport::Udp}) {
    Fd listener = transport == Transport::Tcp ? listen_tcp({address("127.0.0.1"), 0}) : Fd{};
    Endpoint to{address("127.0.0.1"), transport == Transport::Tcp
                                          ? local_endpoint(listener.get())->port
                                          : std::uint16_t{9}};
    auto connection = connect_nonblocking(transport, to, from("127.0.0.2"));
    ASSERT_TRUE(connection);
    auto local = local_endpoint(connection->fd.get());
    ASSERT_TRUE(local);
    EXPECT_EQ(local->address, address("127.0.0.2"));
    EXPECT_NE(local->port, 0);
  }
}

TEST(Outbound, AnAddressOfTheOtherVersionLeavesTheSocketAlone) {
  Outbound outbound;
  outbound.address_v6 = address("::1");
  auto connection = connect_nonblocking(Transport::Udp, {address("127.0.0.1"), 9}, outbound);
  ASSERT_TRUE(connection);
  EXPECT_EQ(local_endpoint(connection->fd.get())->address, address("127.0.0.1"));
}

TEST(Outbound, CheckNamesAnAddressNotOnThisHost) {
  auto failure = check_outbound(from("192.0.2.250"));
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->step, OutboundError::Step::Address);
  EXPECT_EQ(failure->error, std::errc::address_not_available);
  EXPECT_FALSE(check_outbound(from("127.0.0.2")));
}

TEST(Outbound, CheckNamesAnUnknownInterface) {
  Outbound outbound;
  outbound.interface_name = "rtnone0";
  auto failure = check_outbound(outbound);
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->step, OutboundError::Step::Interface);
  EXPECT_EQ(failure->error, std::errc::no_such_device);
}

TEST(Outbound, ConnectFailsWithTheApplyError) {
  auto connection = connect_nonblocking(Transport::Tcp, {address("127.0.0.1"), 9},
                                        from("192.0.2.250"));
  ASSERT_FALSE(connection);
  EXPECT_EQ(connection.error(), std::errc::address_not_available);
}

}  // namespace
}  // namespace rtether::io
