// Socks5Client: the RFC 1928 / RFC 1929 opening, fed byte fixtures.
#include "wire/socks5_client.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace rtether::wire {
namespace {

using ByteVector = std::vector<std::uint8_t>;

ByteVector take_output(ProxyHandshake& handshake) {
  ByteVector out(handshake.output().begin(), handshake.output().end());
  handshake.output_sent(out.size());
  return out;
}

IpAddress address(const char* text) {
  IpAddress parsed;
  EXPECT_TRUE(IpAddress::parse(text, parsed));
  return parsed;
}

const Socks5Address kTarget{IpAddress::v4(0xc0000201), 8080};  // 192.0.2.1:8080
const ProxyCredentials kCredentials{"alice", "s3cret"};

TEST(Socks5Client, WithoutCredentialsOffersNoAuthAndConnects) {
  Socks5Client client(Socks5Command::Connect, kTarget, std::nullopt);
  EXPECT_EQ(take_output(client), (ByteVector{5, 1, 0}));
  EXPECT_EQ(client.feed(ByteVector{5, 0}), 2u);
  EXPECT_EQ(take_output(client), (ByteVector{5, 1, 0, 1, 192, 0, 2, 1, 0x1f, 0x90}));
  EXPECT_EQ(client.state(), ProxyHandshake::State::Waiting);
  const ByteVector reply{5, 0, 0, 1, 127, 0, 0, 1, 0x30, 0x39};
  EXPECT_EQ(client.feed(reply), reply.size());
  EXPECT_EQ(client.state(), ProxyHandshake::State::Done);
  ASSERT_TRUE(client.bound());
  EXPECT_EQ(client.bound()->address.to_string(), "127.0.0.1");
  EXPECT_EQ(client.bound()->port, 12345);
}

TEST(Socks5Client, UsernamePasswordAsRfc1929) {
  Socks5Client client(Socks5Command::Connect, kTarget, kCredentials);
  EXPECT_EQ(take_output(client), (ByteVector{5, 2, 0, 2}));
  EXPECT_EQ(client.feed(ByteVector{5, 2}), 2u);
  EXPECT_EQ(take_output(client),
            (ByteVector{1, 5, 'a', 'l', 'i', 'c', 'e', 6, 's', '3', 'c', 'r', 'e', 't'}));
  EXPECT_EQ(client.feed(ByteVector{1, 0}), 2u);
  EXPECT_EQ(take_output(client), (ByteVector{5, 1, 0, 1, 192, 0, 2, 1, 0x1f, 0x90}));
  EXPECT_EQ(client.feed(ByteVector{5, 0, 0, 1, 0, 0, 0, 0, 0, 0}), 10u);
  EXPECT_EQ(client.state(), ProxyHandshake::State::Done);
}

TEST(Socks5Client, RejectedPasswordIsAuthFailed) {
  Socks5Client client(Socks5Command::Connect, kTarget, kCredentials);
  take_output(client);
  client.feed(ByteVector{5, 2});
  take_output(client);
  client.feed(ByteVector{1, 1});
  EXPECT_EQ(client.state(), ProxyHandshake::State::Failed);
  EXPECT_EQ(client.error(), ProxyError::AuthFailed);
  EXPECT_TRUE(client.output().empty());
}

TEST(Socks5Client, NoAcceptableMethodIsAuthRequired) {
  Socks5Client client(Socks5Command::Connect, kTarget, std::nullopt);
  client.feed(ByteVector{5, 0xff});
  EXPECT_EQ(client.error(), ProxyError::AuthRequired);
}

TEST(Socks5Client, UsernameChosenWithoutCredentialsIsAuthRequired) {
  Socks5Client client(Socks5Command::Connect, kTarget, std::nullopt);
  client.feed(ByteVector{5, 2});
  EXPECT_EQ(client.error(), ProxyError::AuthRequired);
}

TEST(Socks5Client, AMethodNotOfferedOrAnotherVersionIsMalformed) {
  Socks5Client gssapi(Socks5Command::Connect, kTarget, std::nullopt);
  gssapi.feed(ByteVector{5, 1});
  EXPECT_EQ(gssapi.error(), ProxyError::Malformed);
  Socks5Client socks4(Socks5Command::Connect, kTarget, std::nullopt);
  socks4.feed(ByteVector{4, 0});
  EXPECT_EQ(socks4.error(), ProxyError::Malformed);
}

TEST(Socks5Client, ReplyCodesMapToErrors) {
  const std::pair<std::uint8_t, ProxyError> cases[] = {
      {socks5_reply::kGeneralFailure, ProxyError::Failed},
      {socks5_reply::kNotAllowed, ProxyError::NotAllowed},
      {socks5_reply::kNetworkUnreachable, ProxyError::TargetRefused},
      {socks5_reply::kHostUnreachable, ProxyError::TargetRefused},
      {socks5_reply::kConnectionRefused, ProxyError::TargetRefused},
      {socks5_reply::kTtlExpired, ProxyError::TargetRefused},
      {socks5_reply::kCommandNotSupported, ProxyError::Unsupported},
      {socks5_reply::kAddressTypeNotSupported, ProxyError::Unsupported},
      {9, ProxyError::Failed},
  };
  for (const auto& [code, error] : cases) {
    Socks5Client client(Socks5Command::Connect, kTarget, std::nullopt);
    client.feed(ByteVector{5, 0});
    client.feed(ByteVector{5, code, 0, 1, 0, 0, 0, 0, 0, 0});
    EXPECT_EQ(client.state(), ProxyHandshake::State::Failed) << int{code};
    EXPECT_EQ(client.error(), error) << int{code};
    EXPECT_EQ(client.reply_code(), code);
  }
}

TEST(Socks5Client, SplitRepliesAreTakenOnlyWhole) {
  Socks5Client client(Socks5Command::Connect, kTarget, std::nullopt);
  const ByteVector stream{5, 0, 5, 0, 0, 4, 0x20, 1, 0x0d, 0xb8, 0,   0,   0,   0,
                          0, 0, 0, 0, 0, 0, 0,    1, 0,    80,   'd', 'a', 't', 'a'};
  // Fed as a peeking owner would: all it has so far, from the first byte not
  // taken.
  std::size_t taken = 0;
  for (std::size_t have = 1; have <= stream.size(); ++have)
    taken += client.feed(Bytes{stream}.subspan(taken, have - taken));
  EXPECT_EQ(client.state(), ProxyHandshake::State::Done);
  // The target's first bytes stay for the tunnel.
  EXPECT_EQ(taken, stream.size() - 4);
  ASSERT_TRUE(client.bound());
  EXPECT_EQ(client.bound()->address.to_string(), "2001:db8::1");
  EXPECT_EQ(client.bound()->port, 80);
}

TEST(Socks5Client, ADomainNameBoundAddressIsReadPast) {
  Socks5Client client(Socks5Command::Connect, kTarget, std::nullopt);
  client.feed(ByteVector{5, 0});
  const ByteVector reply{5, 0, 0, 3, 3, 'a', '.', 'b', 0, 1, 'x'};
  EXPECT_EQ(client.feed(reply), reply.size() - 1);
  EXPECT_EQ(client.state(), ProxyHandshake::State::Done);
  EXPECT_FALSE(client.bound());
}

TEST(Socks5Client, ABadReplyHeaderIsMalformed) {
  for (const ByteVector& reply :
       {ByteVector{4, 0, 0, 1, 0, 0, 0, 0, 0, 0}, ByteVector{5, 0, 1, 1, 0, 0, 0, 0, 0, 0},
        ByteVector{5, 0, 0, 2, 0, 0, 0, 0, 0, 0}}) {
    Socks5Client client(Socks5Command::Connect, kTarget, std::nullopt);
    client.feed(ByteVector{5, 0});
    client.feed(reply);
    EXPECT_EQ(client.error(), ProxyError::Malformed);
  }
}

TEST(Socks5Client, UdpAssociateOfAnIpv6Target) {
  Socks5Client client(Socks5Command::UdpAssociate, {address("::"), 0}, std::nullopt);
  take_output(client);
  client.feed(ByteVector{5, 0});
  ByteVector expected{5, 3, 0, 4};
  expected.resize(expected.size() + 16 + 2, 0);
  EXPECT_EQ(take_output(client), expected);
}

TEST(Socks5Client, OutputSentInPartsThenEmpty) {
  Socks5Client client(Socks5Command::Connect, kTarget, kCredentials);
  client.output_sent(1);
  EXPECT_EQ(ByteVector(client.output().begin(), client.output().end()), (ByteVector{2, 0, 2}));
  client.output_sent(3);
  EXPECT_TRUE(client.output().empty());
}

}  // namespace
}  // namespace rtether::wire
