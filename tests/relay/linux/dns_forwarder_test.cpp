// The DNS forwarder in a session on a manual clock: the device's UDP
// queries to 10.0.2.3 / fd00::2:3 reach upstreams that are real loopback
// UDP sockets of the test; IDs are rewritten toward the upstream and
// restored toward the device, answers that do not match are ignored,
// timeouts fail over at exactly config.dns_query_timeout and end in
// SERVFAIL, a refused upstream fails over at once, and the in-flight cap
// and malformed queries are counted drops. Over TCP, the device's
// connection to 10.0.2.3:53 carries framed queries and answers, and a
// truncated UDP answer is asked again over TCP. With a proxy (fake ones
// of the test on loopback), a non-loopback upstream is asked through it:
// over TCP through an HTTP CONNECT tunnel (a UDP asker answered in a
// datagram, a big answer truncated), over a SOCKS5 UDP ASSOCIATE, over a
// SOCKS5 CONNECT when the proxy refuses UDP; a loopback upstream is asked
// directly.
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "io/clock.hpp"
#include "io/datagram.hpp"
#include "relay/client_session.hpp"
#include "relay/fake_device.hpp"
#include "relay/upstream_proxy.hpp"
#include "wire/dns_message.hpp"
#include "wire/dns_test_messages.hpp"

namespace rtether::relay {
namespace {

using namespace std::chrono_literals;
using testing::address;
using testing::FakeDevice;
using testing::HostListener;
namespace flag = wire::tcp_flag;
using wire::testing::dns_answer;
using wire::testing::dns_query;

constexpr std::uint16_t kDevicePort = 40053;
constexpr std::uint32_t kOnlyAddress = 0xC000024D;  // 192.0.2.77

// A UDP socket on 127.0.0.1 playing a host resolver.
struct Upstream {
  io::Fd socket = io::bind_udp({address("127.0.0.1"), 0});
  io::Endpoint endpoint() const { return *io::local_endpoint(socket.get()); }

  // The next query it received, and who sent it.
  std::optional<std::vector<std::uint8_t>> receive(FakeDevice& device, io::Endpoint& from) {
    std::vector<std::uint8_t> buffer(65536);
    std::optional<std::vector<std::uint8_t>> got;
    device.run_until([&] {
      auto datagram = io::recv_from(socket.get(), buffer);
      if (!datagram) return false;
      from = datagram->from;
      got.emplace(buffer.begin(), buffer.begin() + static_cast<long>(datagram->size));
      return true;
    });
    return got;
  }
  bool has_nothing() {
    std::uint8_t byte;
    return ::recv(socket.get(), &byte, 1, MSG_DONTWAIT | MSG_PEEK) < 0;
  }
  // A datagram from this socket to `to` (an IPv4 loopback endpoint).
  void send_to(const io::Endpoint& to, const std::vector<std::uint8_t>& message) {
    sockaddr_in peer{};
    peer.sin_family = AF_INET;
    peer.sin_port = htons(to.port);
    std::memcpy(&peer.sin_addr, to.address.bytes.data(), 4);
    ASSERT_EQ(::sendto(socket.get(), message.data(), message.size(), 0,
                       reinterpret_cast<const sockaddr*>(&peer), sizeof peer),
              static_cast<long>(message.size()));
  }
};

class DnsForwarding : public ::testing::Test {
 protected:
  void start() {
    session_ = std::make_unique<ClientSession>(loop_, device_.take_relay_end(), 0, config_,
                                               [](std::uint32_t) {});
    session_->start();
    ASSERT_TRUE(device_.run_until([&] { return device_.client_id().has_value(); }));
  }

  void jump(std::chrono::steady_clock::duration by) {
    clock_.advance(by);
    for (int i = 0; i < 5; ++i) device_.turn();
  }

  void send_query(const std::vector<std::uint8_t>& query, const char* resolver = "10.0.2.3",
                  const char* from = "10.0.0.2", std::uint16_t port = kDevicePort) {
    wire::UdpDatagramHeader header;
    header.source = address(from);
    header.destination = address(resolver);
    header.source_port = port;
    header.destination_port = 53;
    device_.send_udp(header, query);
  }

  // The next datagram to the device: its addresses, ports and payload.
  struct DeviceDatagram {
    wire::IpAddress source;
    wire::IpAddress destination;
    std::uint16_t source_port = 0;
    std::uint16_t destination_port = 0;
    std::vector<std::uint8_t> payload;
  };
  std::optional<DeviceDatagram> device_receives() {
    auto packet = device_.next_packet();
    if (!packet) return std::nullopt;
    auto ip = wire::parse_ip(*packet);
    if (!ip.packet) return std::nullopt;
    auto udp = wire::UdpView::parse(ip.packet->payload);
    if (!udp) return std::nullopt;
    return DeviceDatagram{ip.packet->source,
                          ip.packet->destination,
                          udp->source_port(),
                          udp->destination_port(),
                          {udp->payload().begin(), udp->payload().end()}};
  }

  static void reply(Upstream& upstream, const io::Endpoint& to,
                    const std::vector<std::uint8_t>& message) {
    upstream.send_to(to, message);
  }

  const Counters& counters() const { return session_->counters(); }

  wire::TcpSegmentHeader to_resolver(std::uint32_t seq, std::uint32_t ack, std::uint8_t flags) {
    auto header = testing::device_tcp(kDevicePort, 53, seq, ack, flags);
    header.destination = address("10.0.2.3");
    return header;
  }

  io::ManualClock clock_;
  io::EventLoop loop_{clock_};
  FakeDevice device_{loop_};
  RelayConfig config_;
  std::unique_ptr<ClientSession> session_;
};

TEST_F(DnsForwarding, TheAnswerReachesTheDeviceWithItsOwnIdFromTheResolverAddress) {
  Upstream upstream;
  config_.dns_upstreams = {upstream.endpoint()};
  start();
  auto query = dns_query(0x1234, "only.test");
  send_query(query);
  io::Endpoint relay_socket;
  auto asked = upstream.receive(device_, relay_socket);
  ASSERT_TRUE(asked);
  ASSERT_EQ(asked->size(), query.size());
  EXPECT_TRUE(std::equal(asked->begin() + 2, asked->end(), query.begin() + 2))
      << "only the ID is the relay's";
  const std::uint16_t upstream_id = wire::dns_id(*asked);
  EXPECT_EQ(session_->dns().queries_in_flight(), 1u);

  reply(upstream, relay_socket, dns_answer(*asked, upstream_id, kOnlyAddress));
  auto got = device_receives();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->source, address("10.0.2.3"));
  EXPECT_EQ(got->source_port, 53);
  EXPECT_EQ(got->destination, address("10.0.0.2"));
  EXPECT_EQ(got->destination_port, kDevicePort);
  EXPECT_EQ(got->payload, dns_answer(query, 0x1234, kOnlyAddress));
  EXPECT_EQ(counters().dns_queries, 1u);
  EXPECT_EQ(counters().dns_answers, 1u);
  EXPECT_EQ(session_->dns().queries_in_flight(), 0u);
}

TEST_F(DnsForwarding, TheIpv6ResolverAnswersFromItsOwnAddress) {
  Upstream upstream;
  config_.dns_upstreams = {upstream.endpoint()};
  start();
  auto query = dns_query(0x0606, "only.test");
  send_query(query, "fd00::2:3", "fd00::2");
  io::Endpoint relay_socket;
  auto asked = upstream.receive(device_, relay_socket);
  ASSERT_TRUE(asked);
  reply(upstream, relay_socket, dns_answer(*asked, wire::dns_id(*asked), kOnlyAddress));
  auto got = device_receives();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->source, address("fd00::2:3"));
  EXPECT_EQ(got->destination, address("fd00::2"));
  EXPECT_EQ(wire::dns_id(got->payload), 0x0606);
}

TEST_F(DnsForwarding, AnswersWithAnotherIdOrQuestionAreIgnoredAndCounted) {
  Upstream upstream;
  config_.dns_upstreams = {upstream.endpoint()};
  start();
  auto query = dns_query(0x1234, "only.test");
  send_query(query);
  io::Endpoint relay_socket;
  auto asked = upstream.receive(device_, relay_socket);
  ASSERT_TRUE(asked);
  const std::uint16_t upstream_id = wire::dns_id(*asked);
  reply(upstream, relay_socket,
        dns_answer(*asked, static_cast<std::uint16_t>(upstream_id + 1), kOnlyAddress));
  reply(upstream, relay_socket,
        dns_answer(dns_query(upstream_id, "other.test"), upstream_id, kOnlyAddress));
  ASSERT_TRUE(device_.run_until([&] { return counters().dns_upstream_errors == 2; }));
  EXPECT_TRUE(device_.all_taken()) << "nothing reached the device";
  reply(upstream, relay_socket, dns_answer(*asked, upstream_id, kOnlyAddress));
  auto got = device_receives();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->payload, dns_answer(query, 0x1234, kOnlyAddress));
}

TEST_F(DnsForwarding, ASilentUpstreamTimesOutToTheNextThenServfail) {
  ASSERT_EQ(config_.dns_query_timeout, 2000ms);
  Upstream first, second;
  config_.dns_upstreams = {first.endpoint(), second.endpoint()};
  start();
  auto query = dns_query(0x7777, "only.test");
  send_query(query);
  io::Endpoint relay_socket;
  ASSERT_TRUE(first.receive(device_, relay_socket));
  jump(1999ms);
  EXPECT_TRUE(second.has_nothing()) << "still waiting for the first";
  EXPECT_EQ(counters().dns_timeouts, 0u);
  jump(1ms);
  EXPECT_EQ(counters().dns_timeouts, 1u);
  EXPECT_EQ(counters().dns_failovers, 1u);
  ASSERT_TRUE(second.receive(device_, relay_socket));
  jump(1999ms);
  EXPECT_TRUE(device_.all_taken()) << "no answer before the second timeout";
  jump(1ms);
  auto got = device_receives();
  ASSERT_TRUE(got);
  auto answer = wire::parse_dns_message(got->payload);
  ASSERT_TRUE(answer);
  EXPECT_TRUE(answer->response);
  EXPECT_EQ(answer->id, 0x7777);
  EXPECT_EQ(answer->rcode, wire::dns_rcode::kServerFailure);
  EXPECT_EQ(counters().dns_timeouts, 2u);
  EXPECT_EQ(counters().dns_failovers, 1u);
  EXPECT_EQ(counters().dns_server_failures, 1u);
  EXPECT_EQ(counters().dns_answers, 0u);
  EXPECT_EQ(session_->dns().queries_in_flight(), 0u);
}

TEST_F(DnsForwarding, ALateAnswerFromTheTimedOutUpstreamIsNotDelivered) {
  Upstream first, second;
  config_.dns_upstreams = {first.endpoint(), second.endpoint()};
  start();
  auto query = dns_query(0x0101, "only.test");
  send_query(query);
  io::Endpoint first_socket, second_socket;
  auto asked_first = first.receive(device_, first_socket);
  ASSERT_TRUE(asked_first);
  jump(2000ms);
  auto asked_second = second.receive(device_, second_socket);
  ASSERT_TRUE(asked_second);
  // The first attempt's socket is closed: its answer goes nowhere.
  first.send_to(first_socket, dns_answer(*asked_first, wire::dns_id(*asked_first), 1));
  reply(second, second_socket, dns_answer(*asked_second, wire::dns_id(*asked_second), 2));
  auto got = device_receives();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->payload, dns_answer(query, 0x0101, 2));
  device_.run_until([] { return false; }, 50ms);
  EXPECT_TRUE(device_.all_taken()) << "one answer only";
}

TEST_F(DnsForwarding, ARefusedUpstreamFailsOverAtOnce) {
  Upstream working;
  io::Endpoint dead;
  {
    Upstream closed;  // its port, closed: ICMP port unreachable
    dead = closed.endpoint();
  }
  config_.dns_upstreams = {dead, working.endpoint()};
  start();
  send_query(dns_query(0x0202, "only.test"));
  io::Endpoint relay_socket;
  ASSERT_TRUE(working.receive(device_, relay_socket)) << "no time passed on the relay's clock";
  EXPECT_EQ(counters().dns_upstream_errors, 1u);
  EXPECT_EQ(counters().dns_failovers, 1u);
  EXPECT_EQ(counters().dns_timeouts, 0u);
}

TEST_F(DnsForwarding, NoUpstreamMeansServfailAtOnce) {
  start();
  send_query(dns_query(0x0303, "only.test"));
  auto got = device_receives();
  ASSERT_TRUE(got);
  EXPECT_EQ(wire::parse_dns_message(got->payload)->rcode, wire::dns_rcode::kServerFailure);
  EXPECT_EQ(wire::dns_id(got->payload), 0x0303);
  EXPECT_EQ(counters().dns_server_failures, 1u);
}

TEST_F(DnsForwarding, QueriesPastTheInFlightCapAreDroppedAndCounted) {
  Upstream upstream;
  config_.dns_upstreams = {upstream.endpoint()};
  config_.max_dns_queries_per_client = 2;
  start();
  for (std::uint16_t id = 1; id <= 3; ++id) send_query(dns_query(id, "only.test"));
  ASSERT_TRUE(device_.run_until([&] { return counters().dns_drop_in_flight_limit == 1; }));
  EXPECT_EQ(counters().dns_queries, 2u);
  EXPECT_EQ(session_->dns().queries_in_flight(), 2u);
  jump(2000ms);  // both SERVFAIL: room again
  EXPECT_EQ(session_->dns().queries_in_flight(), 0u);
  send_query(dns_query(4, "only.test"));
  ASSERT_TRUE(device_.run_until([&] { return counters().dns_queries == 3; }));
}

TEST_F(DnsForwarding, MalformedQueriesAreCountedDrops) {
  Upstream upstream;
  config_.dns_upstreams = {upstream.endpoint()};
  start();
  auto response = dns_answer(dns_query(1, "only.test"), 1, kOnlyAddress);
  auto long_label = dns_query(2, std::string(64, 'a'));
  send_query(std::vector<std::uint8_t>(5, 0));
  send_query(response);
  send_query(long_label);
  ASSERT_TRUE(device_.run_until([&] { return counters().dns_bad_queries == 3; }));
  EXPECT_EQ(counters().dns_queries, 0u);
  EXPECT_TRUE(upstream.has_nothing());
  EXPECT_EQ(session_->flow_count(), 0u) << "no UDP flow to the host's 10.0.2.3";
}

std::vector<std::uint8_t> framed(const std::vector<std::uint8_t>& message) {
  std::vector<std::uint8_t> out(2 + message.size());
  wire::store_be16(out.data(), static_cast<std::uint16_t>(message.size()));
  std::copy(message.begin(), message.end(), out.begin() + 2);
  return out;
}

// Reads one length-framed message from a non-blocking read of a TCP socket.
std::optional<std::vector<std::uint8_t>> read_framed(FakeDevice& device, int fd) {
  std::vector<std::uint8_t> in;
  bool whole = device.run_until([&] {
    std::uint8_t buffer[4096];
    long got = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (got > 0) in.insert(in.end(), buffer, buffer + got);
    return in.size() >= 2 && in.size() == 2u + wire::load_be16(in.data());
  });
  if (!whole) return std::nullopt;
  return std::vector<std::uint8_t>(in.begin() + 2, in.end());
}

TEST_F(DnsForwarding, ATcpQueryIsAnsweredOnTheDevicesConnectionAfterATruncatedUdpAnswer) {
  Upstream upstream;
  // The same upstream over TCP: a listener on the UDP socket's port.
  io::Fd tcp_upstream = io::listen_tcp(upstream.endpoint());
  config_.dns_upstreams = {upstream.endpoint()};
  start();
  constexpr std::uint32_t kIss = 9000;
  device_.send_tcp(to_resolver(kIss, 0, flag::kSyn));
  auto syn_ack = device_.next_tcp();
  ASSERT_TRUE(syn_ack);
  ASSERT_EQ(syn_ack->flags(), flag::kSyn | flag::kAck);
  const std::uint32_t relay_next = syn_ack->seq() + 1;
  device_.send_tcp(to_resolver(kIss + 1, relay_next, flag::kAck));
  auto query = dns_query(0x5151, "big.test");
  auto request = framed(query);
  device_.send_tcp(to_resolver(kIss + 1, relay_next, flag::kAck | flag::kPsh), request);

  io::Endpoint relay_socket;
  auto asked = upstream.receive(device_, relay_socket);
  ASSERT_TRUE(asked) << "asked over UDP first";
  auto truncated = dns_answer(*asked, wire::dns_id(*asked), kOnlyAddress);
  truncated[2] |= 0x02;  // TC
  reply(upstream, relay_socket, truncated);

  io::Fd over_tcp;
  ASSERT_TRUE(device_.run_until([&] {
    auto accepted = io::accept_nonblocking(tcp_upstream.get());
    if (accepted) over_tcp = std::move(*accepted);
    return over_tcp.valid();
  })) << "asked again over TCP";
  auto asked_again = read_framed(device_, over_tcp.get());
  ASSERT_TRUE(asked_again);
  auto whole = dns_answer(*asked_again, wire::dns_id(*asked_again), kOnlyAddress);
  auto response = framed(whole);
  ASSERT_EQ(::send(over_tcp.get(), response.data(), response.size(), 0),
            static_cast<long>(response.size()));

  std::vector<std::uint8_t> stream;
  std::uint32_t device_ack = relay_next;
  ASSERT_TRUE(device_.run_until([&] {
    while (!device_.all_taken()) {
      auto packet = device_.next_packet();
      auto ip = wire::parse_ip(*packet);
      auto tcp = wire::TcpView::parse(ip.packet->payload);
      stream.insert(stream.end(), tcp->payload().begin(), tcp->payload().end());
      device_ack = tcp->seq() + static_cast<std::uint32_t>(tcp->payload().size());
    }
    return stream.size() >= 2 && stream.size() == 2u + wire::load_be16(stream.data());
  }));
  device_.send_tcp(
      to_resolver(kIss + 1 + static_cast<std::uint32_t>(request.size()), device_ack, flag::kAck));
  EXPECT_EQ(stream, framed(dns_answer(query, 0x5151, kOnlyAddress)));
  EXPECT_EQ(counters().dns_tcp_retries, 1u);
  EXPECT_EQ(counters().dns_answers, 1u);
  EXPECT_EQ(counters().tcp_flows_opened, 1u);
}

// A proxy of the test: a listener on 127.0.0.1 whose connections the test
// reads and answers by hand.
struct FakeProxy {
  io::Fd listener = io::listen_tcp({address("127.0.0.1"), 0});
  io::Endpoint endpoint() const { return *io::local_endpoint(listener.get()); }

  io::Fd accept(FakeDevice& device) {
    io::Fd connection;
    device.run_until([&] {
      auto accepted = io::accept_nonblocking(listener.get());
      if (accepted) connection = std::move(*accepted);
      return connection.valid();
    });
    return connection;
  }
};

// Reads (non-blocking, the loop turning) until `in` holds `count` bytes.
bool read_bytes(FakeDevice& device, int fd, std::size_t count, std::vector<std::uint8_t>& in) {
  return device.run_until([&] {
    std::uint8_t buffer[4096];
    const std::size_t room = std::min(sizeof buffer, count - std::min(count, in.size()));
    if (room > 0) {
      long got = ::recv(fd, buffer, room, MSG_DONTWAIT);
      if (got > 0) in.insert(in.end(), buffer, buffer + got);
    }
    return in.size() >= count;
  });
}

// An HTTP request head, up to its empty line.
std::string read_head(FakeDevice& device, int fd) {
  std::string head;
  device.run_until([&] {
    char c;
    while (::recv(fd, &c, 1, MSG_DONTWAIT) == 1) {
      head += c;
      if (head.ends_with("\r\n\r\n")) return true;
    }
    return false;
  });
  return head;
}

void send_all(int fd, const std::vector<std::uint8_t>& bytes) {
  ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<long>(bytes.size()));
}
void send_all(int fd, const std::string& text) {
  send_all(fd, std::vector<std::uint8_t>(text.begin(), text.end()));
}

// The upstream only the proxy reaches (TEST-NET-1: nothing answers it).
const io::Endpoint kFarUpstream{address("192.0.2.53"), 53};
// A SOCKS5 address of it: ATYP IPv4, 192.0.2.53, port 53.
const std::vector<std::uint8_t> kFarSocks5Address{0x01, 192, 0, 2, 53, 0x00, 53};

class DnsThroughProxy : public DnsForwarding {
 protected:
  void use_proxy(const std::string& scheme) {
    std::string error;
    config_.proxy = parse_proxy_url(scheme + "://" + "127.0.0.1:" +
                                        std::to_string(proxy_.endpoint().port),
                                    error);
    ASSERT_TRUE(config_.proxy) << error;
    config_.dns_upstreams = {kFarUpstream};
  }

  // The tunnel's query, answered over it with `answer(query)`.
  template <typename Answer>
  void answer_over_tunnel(int fd, Answer answer) {
    std::vector<std::uint8_t> in;
    ASSERT_TRUE(read_bytes(device_, fd, 2, in));
    ASSERT_TRUE(read_bytes(device_, fd, 2u + wire::load_be16(in.data()), in));
    const std::vector<std::uint8_t> asked(in.begin() + 2, in.end());
    send_all(fd, framed(answer(asked)));
  }

  // The relay's next SOCKS5 connection to the proxy, its greeting checked
  // (no authentication, RFC 1928 3) and accepted; its 10-byte request (an
  // IPv4 address) in `request`.
  io::Fd accept_socks5(std::vector<std::uint8_t>& request) {
    io::Fd connection = proxy_.accept(device_);
    std::vector<std::uint8_t> greeting;
    if (!connection.valid() || !read_bytes(device_, connection.get(), 3, greeting)) return {};
    EXPECT_EQ(greeting, (std::vector<std::uint8_t>{0x05, 0x01, 0x00})) << "no authentication";
    send_all(connection.get(), std::vector<std::uint8_t>{0x05, 0x00});
    if (!read_bytes(device_, connection.get(), 10, request)) return {};
    return connection;
  }

  // The proxy's answer granting a UDP ASSOCIATE, its relay at 127.0.0.1:`port`.
  static void grant_udp_associate(int fd, std::uint16_t port) {
    send_all(fd, std::vector<std::uint8_t>{0x05, 0x00, 0x00, 0x01, 127, 0, 0, 1,
                                           static_cast<std::uint8_t>(port >> 8),
                                           static_cast<std::uint8_t>(port & 0xFF)});
  }

  // The relay's next SOCKS5 CONNECT, to kFarUpstream's port 53, granted;
  // the query over it answered with kOnlyAddress; `query` (its device ID
  // `id`) then has that answer at the device.
  void answer_socks5_connect(const std::vector<std::uint8_t>& query, std::uint16_t id,
                             const char* why) {
    std::vector<std::uint8_t> in;
    io::Fd tunnel = accept_socks5(in);
    ASSERT_TRUE(tunnel.valid()) << why;
    std::vector<std::uint8_t> connect{0x05, 0x01, 0x00};
    connect.insert(connect.end(), kFarSocks5Address.begin(), kFarSocks5Address.end());
    EXPECT_EQ(in, connect) << why;
    send_all(tunnel.get(), std::vector<std::uint8_t>{0x05, 0x00, 0x00, 0x01, 127, 0, 0, 1, 0, 1});
    answer_over_tunnel(tunnel.get(), [](const std::vector<std::uint8_t>& asked) {
      return dns_answer(asked, wire::dns_id(asked), kOnlyAddress);
    });
    auto got = device_receives();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->payload, dns_answer(query, id, kOnlyAddress));
  }

  FakeProxy proxy_;
};

TEST_F(DnsThroughProxy, AUdpQueryGoesOverTcpThroughAnHttpProxyAndIsAnsweredInADatagram) {
  use_proxy("http");
  start();
  auto query = dns_query(0x2468, "only.test");
  send_query(query);
  io::Fd tunnel = proxy_.accept(device_);
  ASSERT_TRUE(tunnel.valid()) << "no connection to the proxy";
  const std::string head = read_head(device_, tunnel.get());
  EXPECT_TRUE(head.starts_with("CONNECT 192.0.2.53:53 HTTP/1.1\r\n")) << head;
  send_all(tunnel.get(), std::string("HTTP/1.1 200 Connection established\r\n\r\n"));
  answer_over_tunnel(tunnel.get(), [](const std::vector<std::uint8_t>& asked) {
    return dns_answer(asked, wire::dns_id(asked), kOnlyAddress);
  });
  auto got = device_receives();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->source, address("10.0.2.3"));
  EXPECT_EQ(got->destination_port, kDevicePort);
  EXPECT_EQ(got->payload, dns_answer(query, 0x2468, kOnlyAddress));
  EXPECT_EQ(counters().dns_proxy_tcp, 1u);
  EXPECT_EQ(counters().dns_proxy_udp, 0u);
  EXPECT_EQ(counters().dns_answers, 1u);
}

TEST_F(DnsThroughProxy, ATcpAnswerTooBigForADatagramReachesAUdpAskerTruncated) {
  use_proxy("http");
  start();
  auto query = dns_query(0x1357, "big.test");
  send_query(query);
  io::Fd tunnel = proxy_.accept(device_);
  ASSERT_TRUE(tunnel.valid());
  read_head(device_, tunnel.get());
  send_all(tunnel.get(), std::string("HTTP/1.1 200 OK\r\n\r\n"));
  answer_over_tunnel(tunnel.get(), [](const std::vector<std::uint8_t>& asked) {
    auto big = dns_answer(asked, wire::dns_id(asked), kOnlyAddress);
    big.resize(700, 0);  // records past what a UDP asker surely takes
    return big;
  });
  auto got = device_receives();
  ASSERT_TRUE(got);
  auto parsed = wire::parse_dns_message(got->payload);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->truncated);
  EXPECT_EQ(parsed->id, 0x1357);
  EXPECT_EQ(got->payload.size(), parsed->question_end);
  EXPECT_EQ(counters().dns_truncated_for_udp, 1u);
}

TEST_F(DnsThroughProxy, AUdpQueryGoesThroughASocks5UdpAssociate) {
  use_proxy("socks5");
  io::Fd relay = io::bind_udp({address("127.0.0.1"), 0});
  const std::uint16_t relay_port = io::local_endpoint(relay.get())->port;
  start();
  auto query = dns_query(0x4321, "only.test");
  send_query(query);
  std::vector<std::uint8_t> in;
  io::Fd control = accept_socks5(in);
  ASSERT_TRUE(control.valid());
  EXPECT_EQ(in, (std::vector<std::uint8_t>{0x05, 0x03, 0x00, 0x01, 0, 0, 0, 0, 0, 0}))
      << "UDP ASSOCIATE from the all-zeros address";
  grant_udp_associate(control.get(), relay_port);
  std::vector<std::uint8_t> datagram(65536);
  std::optional<io::Datagram> received;
  ASSERT_TRUE(device_.run_until([&] {
    auto got = io::recv_from(relay.get(), datagram);
    if (got) received = *got;
    return received.has_value();
  })) << "no datagram at the proxy's UDP relay";
  datagram.resize(received->size);
  std::vector<std::uint8_t> header{0, 0, 0};
  header.insert(header.end(), kFarSocks5Address.begin(), kFarSocks5Address.end());
  ASSERT_GT(datagram.size(), header.size());
  EXPECT_TRUE(std::equal(header.begin(), header.end(), datagram.begin()))
      << "the SOCKS5 UDP header names the upstream";
  const std::vector<std::uint8_t> asked(datagram.begin() + static_cast<long>(header.size()),
                                        datagram.end());
  // First one from elsewhere (ignored), then the upstream's answer.
  std::vector<std::uint8_t> stray{0, 0, 0, 0x01, 198, 51, 100, 9, 0x00, 53};
  auto answer = dns_answer(asked, wire::dns_id(asked), kOnlyAddress);
  stray.insert(stray.end(), answer.begin(), answer.end());
  std::vector<std::uint8_t> reply = header;
  reply.insert(reply.end(), answer.begin(), answer.end());
  for (const auto* message : {&stray, &reply}) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(received->from.port);
    std::memcpy(&to.sin_addr, received->from.address.bytes.data(), 4);
    ASSERT_EQ(::sendto(relay.get(), message->data(), message->size(), 0,
                       reinterpret_cast<const sockaddr*>(&to), sizeof to),
              static_cast<long>(message->size()));
  }
  auto got = device_receives();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->payload, dns_answer(query, 0x4321, kOnlyAddress));
  EXPECT_EQ(counters().dns_proxy_udp, 1u);
  EXPECT_EQ(counters().dns_proxy_tcp, 0u);
  EXPECT_EQ(counters().proxy_udp_bad_datagrams, 1u);
}

TEST_F(DnsThroughProxy, ASocks5ProxyRefusingUdpIsAskedOverItsConnect) {
  use_proxy("socks5");
  start();
  auto query = dns_query(0x0bad, "only.test");
  send_query(query);
  std::vector<std::uint8_t> in;
  io::Fd control = accept_socks5(in);
  ASSERT_TRUE(control.valid());
  EXPECT_EQ(in[1], 0x03) << "UDP ASSOCIATE first";
  // 07: command not supported.
  send_all(control.get(), std::vector<std::uint8_t>{0x05, 0x07, 0x00, 0x01, 0, 0, 0, 0, 0, 0});

  ASSERT_NO_FATAL_FAILURE(
      answer_socks5_connect(query, 0x0bad, "CONNECT to the upstream's port 53 after the refusal"));
  EXPECT_EQ(counters().dns_proxy_udp, 1u);
  EXPECT_EQ(counters().dns_proxy_udp_fallbacks, 1u);
  EXPECT_EQ(counters().dns_proxy_tcp, 1u);
  EXPECT_EQ(counters().proxy_failed, 1u);
}

// The proxy grants UDP ASSOCIATE but nothing comes back over it (its host
// lets no UDP out): the same upstream is asked over TCP through it, and
// the next query skips the proxy's UDP.
TEST_F(DnsThroughProxy, ASocks5ProxyWhoseUdpGoesUnansweredIsAskedOverItsConnect) {
  use_proxy("socks5");
  io::Fd relay = io::bind_udp({address("127.0.0.1"), 0});
  const std::uint16_t relay_port = io::local_endpoint(relay.get())->port;
  start();
  auto query = dns_query(0x2468, "only.test");
  send_query(query);
  std::vector<std::uint8_t> in;
  io::Fd control = accept_socks5(in);
  ASSERT_TRUE(control.valid());
  EXPECT_EQ(in[1], 0x03) << "UDP ASSOCIATE first";
  grant_udp_associate(control.get(), relay_port);
  std::vector<std::uint8_t> datagram(65536);
  ASSERT_TRUE(device_.run_until(
      [&] { return static_cast<bool>(io::recv_from(relay.get(), datagram)); }))
      << "no query at the proxy's UDP relay";
  // ... and no answer to it.
  jump(config_.dns_query_timeout);
  EXPECT_EQ(counters().dns_proxy_udp_timeouts, 1u);
  EXPECT_EQ(counters().dns_timeouts, 0u) << "the upstream is not given up on yet";

  ASSERT_NO_FATAL_FAILURE(answer_socks5_connect(
      query, 0x2468, "CONNECT to the same upstream after the unanswered UDP"));
  EXPECT_EQ(counters().dns_proxy_udp_silent, 1u);

  // The next query goes over TCP through the proxy at once: CONNECT, no
  // UDP ASSOCIATE, while the proxy's UDP is known blocked.
  auto second = dns_query(0x1357, "only.test");
  send_query(second);
  ASSERT_NO_FATAL_FAILURE(
      answer_socks5_connect(second, 0x1357, "CONNECT at once for the next query"));
  EXPECT_EQ(counters().dns_proxy_udp, 1u);
  EXPECT_EQ(counters().dns_proxy_udp_skipped, 1u);
  EXPECT_EQ(counters().dns_proxy_tcp, 2u);
  EXPECT_EQ(counters().dns_answers, 2u);

  // Five minutes on, UDP through the proxy is tried again.
  jump(ProxyUdpHealth::kProxyUdpRetryAfter);
  send_query(dns_query(0x0102, "only.test"));
  in.clear();
  io::Fd again = accept_socks5(in);
  ASSERT_TRUE(again.valid());
  EXPECT_EQ(in[1], 0x03) << "UDP ASSOCIATE again";
  EXPECT_EQ(counters().dns_proxy_udp, 2u);
}

// The association's relay address rejects datagrams (nothing listens
// there): the ICMP error is about the proxy's path, so the same upstream
// is asked over TCP through it, at once.
TEST_F(DnsThroughProxy, ASocks5UdpRelayThatRejectsDatagramsIsLeftForItsConnect) {
  use_proxy("socks5");
  std::uint16_t closed_port;
  {
    io::Fd probe = io::bind_udp({address("127.0.0.1"), 0});
    closed_port = io::local_endpoint(probe.get())->port;
  }
  start();
  auto query = dns_query(0x0c0c, "only.test");
  send_query(query);
  std::vector<std::uint8_t> in;
  io::Fd control = accept_socks5(in);
  ASSERT_TRUE(control.valid());
  EXPECT_EQ(in[1], 0x03) << "UDP ASSOCIATE first";
  grant_udp_associate(control.get(), closed_port);
  ASSERT_NO_FATAL_FAILURE(answer_socks5_connect(query, 0x0c0c, "CONNECT after the rejection"));
  EXPECT_EQ(counters().dns_proxy_udp_fallbacks, 1u);
  EXPECT_EQ(counters().dns_upstream_errors, 0u);
  EXPECT_EQ(counters().dns_failovers, 0u);
  EXPECT_EQ(counters().dns_proxy_udp_timeouts, 0u);
}

// No answer to the UDP ASSOCIATE within the attempt's time: as a refusal
// (the upstream over TCP through the proxy), not as UDP found blocked.
TEST_F(DnsThroughProxy, ASocks5ProxySlowToAssociateIsAskedOverItsConnect) {
  use_proxy("socks5");
  start();
  auto query = dns_query(0x0d0d, "only.test");
  send_query(query);
  std::vector<std::uint8_t> in;
  io::Fd control = accept_socks5(in);
  ASSERT_TRUE(control.valid());
  EXPECT_EQ(in[1], 0x03) << "UDP ASSOCIATE first";
  jump(config_.dns_query_timeout);
  ASSERT_NO_FATAL_FAILURE(answer_socks5_connect(query, 0x0d0d, "CONNECT after no association"));
  EXPECT_EQ(counters().dns_proxy_udp_fallbacks, 1u);
  EXPECT_EQ(counters().dns_proxy_udp_timeouts, 0u);
  EXPECT_EQ(counters().dns_proxy_udp_silent, 0u);
}

TEST_F(DnsThroughProxy, ALoopbackUpstreamIsAskedDirectly) {
  use_proxy("socks5");
  Upstream upstream;
  config_.dns_upstreams = {upstream.endpoint()};
  start();
  send_query(dns_query(0x7777, "only.test"));
  io::Endpoint relay_socket;
  ASSERT_TRUE(upstream.receive(device_, relay_socket)) << "the host's own resolver, not the proxy";
  EXPECT_FALSE(io::accept_nonblocking(proxy_.listener.get()));
  EXPECT_EQ(counters().dns_proxy_udp + counters().dns_proxy_tcp, 0u);
}

TEST_F(DnsThroughProxy, AProxyThatNeverAnswersTimesOutToServfail) {
  use_proxy("http");
  start();
  send_query(dns_query(0x3333, "only.test"));
  io::Fd tunnel = proxy_.accept(device_);
  ASSERT_TRUE(tunnel.valid());
  read_head(device_, tunnel.get());
  jump(config_.dns_query_timeout);
  auto got = device_receives();
  ASSERT_TRUE(got);
  auto parsed = wire::parse_dns_message(got->payload);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->rcode, wire::dns_rcode::kServerFailure);
  EXPECT_EQ(counters().dns_timeouts, 1u);
  EXPECT_EQ(counters().dns_server_failures, 1u);
}

}  // namespace
}  // namespace rtether::relay
