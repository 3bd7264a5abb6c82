// --proxy URLs: the grammar of relay/upstream_proxy.hpp, good and bad, and
// the handshake each scheme opens with.
#include "relay/upstream_proxy.hpp"

#include <gtest/gtest.h>

#include <string>

namespace rtether::relay {
namespace {

UpstreamProxy parse_ok(const std::string& text) {
  std::string error;
  auto proxy = parse_proxy_url(text, error);
  EXPECT_TRUE(proxy) << text << ": " << error;
  return proxy.value_or(UpstreamProxy{});
}

std::string parse_error(const std::string& text) {
  std::string error;
  auto proxy = parse_proxy_url(text, error);
  EXPECT_FALSE(proxy) << text;
  EXPECT_FALSE(error.empty()) << text;
  return error;
}

std::string output_of(const wire::ProxyHandshake& handshake) {
  return std::string(reinterpret_cast<const char*>(handshake.output().data()),
                     handshake.output().size());
}

TEST(UpstreamProxy, Socks5WithoutCredentials) {
  auto proxy = parse_ok("socks5://127.0.0.1:1080");
  EXPECT_EQ(proxy.scheme, ProxyScheme::Socks5);
  EXPECT_EQ(proxy.address.address.to_string(), "127.0.0.1");
  EXPECT_EQ(proxy.address.port, 1080);
  EXPECT_FALSE(proxy.credentials);
  EXPECT_TRUE(proxy.carries_udp());
  EXPECT_EQ(proxy.to_string(), "socks5://127.0.0.1:1080");
}

TEST(UpstreamProxy, HttpWithPercentEncodedCredentialsAndATrailingSlash) {
  auto proxy = parse_ok("http://us%40er:p%3Ass:w@[2001:db8::8]:3128/");
  EXPECT_EQ(proxy.scheme, ProxyScheme::HttpConnect);
  EXPECT_EQ(proxy.address.address.to_string(), "2001:db8::8");
  EXPECT_EQ(proxy.address.port, 3128);
  ASSERT_TRUE(proxy.credentials);
  EXPECT_EQ(proxy.credentials->user, "us@er");
  EXPECT_EQ(proxy.credentials->password, "p:ss:w");
  EXPECT_FALSE(proxy.carries_udp());
  // Logs name the user, never the password.
  EXPECT_EQ(proxy.to_string(), "http://us@er@[2001:db8::8]:3128");
}

TEST(UpstreamProxy, AHostNameIsKeptForResolvingAtStart) {
  auto proxy = parse_ok("socks5://u:p@proxy-1.corp.example:1080");
  EXPECT_EQ(proxy.host, "proxy-1.corp.example");
  EXPECT_EQ(proxy.address.port, 1080);
  EXPECT_EQ(proxy.to_string(), "socks5://u@proxy-1.corp.example:1080");
  EXPECT_EQ(parse_ok("http://localhost:3128/").host, "localhost");
  EXPECT_TRUE(parse_ok("http://127.0.0.1:3128").host.empty());
}

TEST(UpstreamProxy, Socks5hIsSocks5) {
  EXPECT_EQ(parse_ok("socks5h://192.0.2.1:1080").scheme, ProxyScheme::Socks5);
}

TEST(UpstreamProxy, BadUrlsSayWhatIsWrong) {
  EXPECT_NE(parse_error("127.0.0.1:1080").find("socks5://"), std::string::npos);
  EXPECT_NE(parse_error("socks4://127.0.0.1:1080").find("socks4"), std::string::npos);
  EXPECT_NE(parse_error("socks5://127.0.0.1").find("PORT"), std::string::npos);
  EXPECT_NE(parse_error("socks5://10.0.0.256:1080").find("IP address"), std::string::npos);
  EXPECT_NE(parse_error("socks5://proxy..example:1080").find("host name"), std::string::npos);
  EXPECT_NE(parse_error("socks5://proxy_ex%61mple:1080").find("host name"), std::string::npos);
  EXPECT_NE(parse_error("socks5://[proxy.example]:1080").find("IP address"), std::string::npos);
  EXPECT_NE(parse_error("socks5://:1080").find("host name"), std::string::npos);
  EXPECT_NE(parse_error("socks5://2001:db8::1:1080").find("IP address"), std::string::npos);
  EXPECT_NE(parse_error("socks5://[127.0.0.1]:1080").find("IP address"), std::string::npos);
  EXPECT_NE(parse_error("socks5://[::1]1080").find("[IPV6]:PORT"), std::string::npos);
  EXPECT_NE(parse_error("socks5://127.0.0.1:0").find("port"), std::string::npos);
  EXPECT_NE(parse_error("socks5://127.0.0.1:65536").find("port"), std::string::npos);
  EXPECT_NE(parse_error("socks5://user@127.0.0.1:1080").find("USER:PASS"), std::string::npos);
  EXPECT_NE(parse_error("socks5://u:%zz@127.0.0.1:1080").find("USER:PASS"), std::string::npos);
  EXPECT_NE(parse_error("socks5://:p@127.0.0.1:1080").find("1 to 255"), std::string::npos);
  EXPECT_NE(parse_error("socks5://u:" + std::string(256, 'p') + "@127.0.0.1:1080").find("255"),
            std::string::npos);
}

TEST(UpstreamProxy, EachSchemeOpensWithItsOwnHandshake) {
  const io::Endpoint target{wire::IpAddress::v4(0xc0000201), 80};
  auto socks = parse_ok("socks5://u:p@127.0.0.1:1080").tcp_handshake(target);
  EXPECT_EQ(output_of(*socks), std::string("\x05\x02\x00\x02", 4));
  auto http = parse_ok("http://127.0.0.1:3128").tcp_handshake(target);
  EXPECT_EQ(output_of(*http).substr(0, 31), "CONNECT 192.0.2.1:80 HTTP/1.1\r\n");
}

}  // namespace
}  // namespace rtether::relay
