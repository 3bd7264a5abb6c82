// HttpConnectClient: RFC 9110 9.3.6 CONNECT requests and the responses to them.
#include "wire/http_connect_client.hpp"

#include <gtest/gtest.h>

#include <string>


namespace rtether::wire {
namespace {

std::string output_text(const ProxyHandshake& handshake) {
  return std::string(reinterpret_cast<const char*>(handshake.output().data()),
                     handshake.output().size());
}

Bytes bytes(std::string_view text) {
  return Bytes{reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

TEST(HttpConnectClient, RequestNamesTheTargetInAuthorityForm) {
  HttpConnectClient client(IpAddress::v4(0xc0000201), 443, std::nullopt);
  EXPECT_EQ(output_text(client), "CONNECT 192.0.2.1:443 HTTP/1.1\r\nHost: 192.0.2.1:443\r\n\r\n");
}

TEST(HttpConnectClient, Ipv6InBracketsAndBasicCredentials) {
  IpAddress address;
  ASSERT_TRUE(IpAddress::parse("2001:db8::1", address));
  HttpConnectClient client(address, 80, ProxyCredentials{"Aladdin", "open sesame"});
  // RFC 7617 2's own example.
  EXPECT_EQ(output_text(client),
            "CONNECT [2001:db8::1]:80 HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n"
            "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n");
}

TEST(HttpConnectClient, A2xxOpensTheTunnelAndLeavesTheTargetsBytes) {
  HttpConnectClient client(IpAddress::v4(1), 1, std::nullopt);
  const std::string_view response =
      "HTTP/1.1 200 Connection established\r\nProxy-agent: "
      "tinyproxy/1.11.1\r\n\r\n";
  std::string stream = std::string(response) + "SSH-2.0-";
  EXPECT_EQ(client.feed(bytes(stream)), response.size());
  EXPECT_EQ(client.state(), ProxyHandshake::State::Done);
  EXPECT_EQ(client.status(), 200);
}

TEST(HttpConnectClient, BareLineFeedsAndNoReasonPhrase) {
  HttpConnectClient client(IpAddress::v4(1), 1, std::nullopt);
  EXPECT_EQ(client.feed(bytes("HTTP/1.0 204\n\n")), 14u);
  EXPECT_EQ(client.state(), ProxyHandshake::State::Done);
}

TEST(HttpConnectClient, AnUnfinishedHeaderWaits) {
  HttpConnectClient client(IpAddress::v4(1), 1, std::nullopt);
  EXPECT_EQ(client.feed(bytes("HTTP/1.1 200 OK\r\nVia: x\r\n")), 0u);
  EXPECT_EQ(client.state(), ProxyHandshake::State::Waiting);
}

TEST(HttpConnectClient, StatusCodesMapToErrors) {
  const std::pair<const char*, ProxyError> cases[] = {
      {"HTTP/1.1 403 Forbidden\r\n\r\n", ProxyError::NotAllowed},
      {"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n", ProxyError::AuthRequired},
      {"HTTP/1.1 500 Unable to connect\r\n\r\n", ProxyError::TargetRefused},
      {"HTTP/1.1 502 Bad Gateway\r\n\r\n", ProxyError::TargetRefused},
      {"HTTP/1.1 301 Moved\r\n\r\n", ProxyError::TargetRefused},
      {"HTTP/1.1 099 x\r\n\r\n", ProxyError::Malformed},
      {"HTTP/2 200 OK\r\n\r\n", ProxyError::Malformed},
      {"SSH-2.0-OpenSSH\r\n\r\n", ProxyError::Malformed},
      {"HTTP/1.1 2x0 OK\r\n\r\n", ProxyError::Malformed},
      {"HTTP/1.1 2000 OK\r\n\r\n", ProxyError::Malformed},
      {"\r\n\r\n", ProxyError::Malformed},
  };
  for (const auto& [response, error] : cases) {
    HttpConnectClient client(IpAddress::v4(1), 1, std::nullopt);
    client.feed(bytes(response));
    EXPECT_EQ(client.state(), ProxyHandshake::State::Failed) << response;
    EXPECT_EQ(client.error(), error) << response;
  }
}

TEST(HttpConnectClient, A407WithCredentialsIsAuthFailed) {
  HttpConnectClient client(IpAddress::v4(1), 1, ProxyCredentials{"u", "p"});
  client.feed(bytes("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"));
  EXPECT_EQ(client.error(), ProxyError::AuthFailed);
}

TEST(HttpConnectClient, AnEndlessHeaderIsMalformed) {
  HttpConnectClient client(IpAddress::v4(1), 1, std::nullopt);
  std::string header = "HTTP/1.1 200 OK\r\n";
  while (header.size() < HttpConnectClient::kMaxResponseHeader) header += "X-Padding: aaaa\r\n";
  EXPECT_EQ(client.feed(bytes(header)), 0u);
  EXPECT_EQ(client.error(), ProxyError::Malformed);
}

}  // namespace
}  // namespace rtether::wire
