// The Winsock socket functions as relay/ uses them: Winsock errors read as
// the std::errc conditions Linux gives, a refused connect, the TCP
// transfers of the no-peek-offset path (peek_after, discard), a cut
// datagram, a port in use, and what Windows lacks said clearly.
#include "io/socket.hpp"

#include <windows.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "io/poller.hpp"
#include "io/windows/winsock.hpp"
#include "loopback.hpp"

namespace rtether::io {
namespace {

using namespace std::chrono_literals;
using testing::loopback;
using testing::TcpPair;
using testing::text;

TEST(WinsockErrors, CompareEqualToThePosixConditions) {
  EXPECT_EQ(winsock_error(WSAEWOULDBLOCK), std::errc::operation_would_block);
  EXPECT_TRUE(would_block(winsock_error(WSAEWOULDBLOCK)));
  EXPECT_EQ(winsock_error(WSAECONNREFUSED), std::errc::connection_refused);
  EXPECT_EQ(winsock_error(WSAECONNRESET), std::errc::connection_reset);
  EXPECT_EQ(winsock_error(WSAEADDRINUSE), std::errc::address_in_use);
  EXPECT_EQ(winsock_error(WSAEHOSTUNREACH), std::errc::host_unreachable);
  EXPECT_EQ(winsock_error(WSAENETUNREACH), std::errc::network_unreachable);
  EXPECT_EQ(winsock_error(WSAEMSGSIZE), std::errc::message_size);
  EXPECT_EQ(winsock_error(WSAEACCES), std::errc::permission_denied);
  EXPECT_EQ(winsock_error(WSAETIMEDOUT), std::errc::timed_out);
  EXPECT_NE(winsock_error(WSAECONNRESET), std::errc::connection_refused);
}

TEST(WinsockErrors, HostDownHasNoPosixConditionButIsKnown) {
  const auto down = winsock_error(WSAEHOSTDOWN);
  EXPECT_TRUE(is_host_down(down));
  EXPECT_NE(down, std::errc::host_unreachable);
  EXPECT_FALSE(is_host_down(winsock_error(WSAEHOSTUNREACH)));
  EXPECT_FALSE(is_host_down(std::make_error_code(std::errc::host_unreachable)));
}

TEST(WinsockErrors, EveryCodeHasAMessage) {
  EXPECT_FALSE(winsock_error(WSAECONNREFUSED).message().empty());
  EXPECT_FALSE(winsock_error(WSAEHOSTDOWN).message().empty());
  EXPECT_FALSE(winsock_error(123456).message().empty());
}

TEST(WinsockSockets, ConnectToAClosedPortIsRefused) {
  Fd listener = listen_tcp({loopback(), 0});
  const Endpoint closed = *local_endpoint(listener.get());
  listener.reset();
  auto connection = connect_nonblocking(Transport::Tcp, closed);
  ASSERT_TRUE(connection);
  ASSERT_TRUE(connection->in_progress) << "a non-blocking connect says WSAEWOULDBLOCK first";
  struct Recorder : Handler {
    Readiness seen;
    void on_ready(Readiness readiness) override { seen = readiness; }
  } handler;
  auto poller = make_poller();
  poller->add(connection->fd.get(), Interest::ReadWrite, Trigger::Edge, &handler);
  std::span<const ReadyHandler> ready;
  for (int round = 0; round < 100 && ready.empty(); ++round) ready = poller->wait(50ms);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_TRUE(ready[0].readiness.error);
  EXPECT_EQ(connect_result(connection->fd.get()), std::errc::connection_refused);
}

TEST(WinsockSockets, ConnectedSocketHasNoConnectError) {
  TcpPair pair;
  EXPECT_FALSE(connect_result(pair.a.get()));
  EXPECT_EQ(local_endpoint(pair.a.get())->address, loopback());
}

TEST(WinsockSockets, AListenerOnAPortInUseFails) {
  Fd first = listen_tcp({loopback(), 0});
  const Endpoint taken = *local_endpoint(first.get());
  try {
    listen_tcp(taken);
    ADD_FAILURE() << "a second listener took the port";
  } catch (const std::system_error& error) {
    EXPECT_EQ(error.code(), std::errc::address_in_use);
    EXPECT_NE(std::string(error.what()).find("127.0.0.1:" + std::to_string(taken.port)),
              std::string::npos)
        << error.what();
  }
}

TEST(WinsockSockets, AcceptPendingTakesWaitingConnectionsUpToTheBudget) {
  Fd listener = listen_tcp({loopback(), 0});
  const Endpoint at = *local_endpoint(listener.get());
  std::vector<Fd> clients;
  for (int i = 0; i < 3; ++i)
    clients.push_back(std::move(connect_nonblocking(Transport::Tcp, at)->fd));
  std::vector<Fd> accepted;
  for (int round = 0; round < 100 && accepted.size() < 3; ++round) {
    EXPECT_FALSE(accept_pending(
        listener.get(), [&](Fd fd) { accepted.push_back(std::move(fd)); }, 2));
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(accepted.size(), 3u);
}

TEST(WinsockSockets, PeekAfterSkipsWhatIsInFlightAndDiscardDropsIt) {
  TcpPair pair;
  ASSERT_TRUE(send_some(pair.a.get(), text("0123456789", 10)));
  std::uint8_t skip[4];
  std::uint8_t into[16];
  Result<std::size_t> got = std::size_t{0};
  for (int round = 0; round < 100; ++round) {
    got = peek_after(pair.b.get(), skip, into);
    if (got && *got == 6) break;
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(got);
  ASSERT_EQ(*got, 6u);
  EXPECT_EQ(std::memcmp(skip, "0123", 4), 0);
  EXPECT_EQ(std::memcmp(into, "456789", 6), 0);
  auto dropped = discard(pair.b.get(), 4);
  ASSERT_TRUE(dropped);
  EXPECT_EQ(*dropped, 4u);
  got = peek_some(pair.b.get(), into);
  ASSERT_TRUE(got);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(into), *got), "456789");
  std::uint8_t all_skip[6];
  got = peek_after(pair.b.get(), all_skip, into);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, 0u) << "nothing queued past the skipped part";
  ASSERT_TRUE(recv_some(pair.b.get(), into));
  EXPECT_TRUE(recv_some(pair.b.get(), into).would_block());
}

TEST(WinsockSockets, HalfCloseAndAbortOnClose) {
  TcpPair pair;
  ASSERT_FALSE(set_no_delay(pair.a.get()));
  ASSERT_FALSE(set_buffer_sizes(pair.a.get(), 256 * 1024, 256 * 1024));
  ASSERT_FALSE(set_buffer_sizes_past_caps(pair.a.get(), 512 * 1024, 0));
  ASSERT_TRUE(send_some(pair.a.get(), text("bye", 3)));
  ASSERT_FALSE(shutdown_write(pair.a.get()));
  std::string received;
  bool eof = false;
  for (int round = 0; round < 200 && !eof; ++round) {
    std::uint8_t buffer[16];
    auto got = recv_some(pair.b.get(), buffer);
    if (got && *got == 0) eof = true;
    if (got) received.append(reinterpret_cast<const char*>(buffer), *got);
    if (!got) std::this_thread::sleep_for(5ms);
  }
  EXPECT_TRUE(eof);
  EXPECT_EQ(received, "bye");
  EXPECT_EQ(send_some(pair.a.get(), text("x", 1)).error(), std::errc::broken_pipe)
      << "a send after shutdown_write fails as EPIPE does";
  EXPECT_TRUE(send_some(pair.b.get(), text("still", 5))) << "the other way stays open";
  EXPECT_FALSE(set_abort_on_close(pair.b.get()));
}

TEST(WinsockSockets, NoPeekOffsetNoDescriptorPassingNoPeerCredentials) {
  TcpPair pair;
  EXPECT_FALSE(tcp_peek_offset_supported());
  EXPECT_TRUE(set_peek_offset(pair.a.get(), 0));
  EXPECT_EQ(send_with_fd(pair.a.get(), text("x", 1), pair.b.get()).error(),
            std::errc::operation_not_supported);
  std::vector<Fd> fds;
  std::uint8_t buffer[4];
  EXPECT_EQ(receive_with_fds(pair.a.get(), buffer, fds).error(),
            std::errc::operation_not_supported);
  EXPECT_EQ(peer_uid(pair.a.get()), -1);
}

TEST(WinsockSockets, ChildProcessesInheritNoSocket) {
  TcpPair pair;
  Fd listener = listen_tcp({loopback(), 0});
  for (int fd : {pair.a.get(), pair.b.get(), listener.get()}) {
    DWORD flags = 0;
    ASSERT_TRUE(::GetHandleInformation(reinterpret_cast<HANDLE>(to_socket(fd)), &flags));
    EXPECT_EQ(flags & HANDLE_FLAG_INHERIT, 0u) << "socket " << fd;
  }
}

TEST(WinsockSockets, NonblockingIsSetAndCleared) {
  TcpPair pair;
  std::uint8_t buffer[4];
  EXPECT_TRUE(recv_some(pair.b.get(), buffer).would_block());
  ASSERT_FALSE(set_nonblocking(pair.b.get(), false));
  ASSERT_FALSE(set_nonblocking(pair.b.get(), true));
  EXPECT_TRUE(recv_some(pair.b.get(), buffer).would_block());
}

TEST(WinsockSockets, AbstractUnixNamesAreRefusedWithTheTcpLinkNamed) {
  try {
    listen_unix("@rtether");
    ADD_FAILURE() << "an abstract name was taken";
  } catch (const std::system_error& error) {
    EXPECT_NE(std::string(error.what()).find("use the TCP link"), std::string::npos)
        << error.what();
  }
  EXPECT_EQ(connect_unix_nonblocking("@rtether").error(), std::errc::filename_too_long);
}

}  // namespace
}  // namespace rtether::io
