// --dns-upstream values: ADDR[:PORT] lists, IPv6 in brackets.
#include "relay/dns_upstream.hpp"

#include <gtest/gtest.h>

namespace rtether::relay {
namespace {

std::vector<std::string> parsed(const std::string& text) {
  std::string error;
  auto upstreams = parse_dns_upstreams(text, error);
  EXPECT_TRUE(upstreams) << text << ": " << error;
  std::vector<std::string> out;
  if (upstreams)
    for (const auto& upstream : *upstreams) out.push_back(to_string(upstream));
  return out;
}

TEST(DnsUpstream, AddressesWithAndWithoutPortsInOrder) {
  EXPECT_EQ(parsed("192.0.2.53"), (std::vector<std::string>{"192.0.2.53:53"}));
  EXPECT_EQ(parsed("127.0.0.53,192.0.2.1:5353,[2001:db8::1],[::1]:1053"),
            (std::vector<std::string>{"127.0.0.53:53", "192.0.2.1:5353", "[2001:db8::1]:53",
                                      "[::1]:1053"}));
}

TEST(DnsUpstream, MalformedValuesAreRefusedWithTheirReason) {
  for (const char* text : {"", ",", "192.0.2.1,", "192.0.2.1:", "192.0.2.1:0", "192.0.2.1:65536",
                           "192.0.2.1:53x", "2001:db8::1", "[2001:db8::1", "[2001:db8::1]53",
                           "[2001:db8::1]:", "[192.0.2.1]", "host.example", "300.0.0.1"}) {
    std::string error;
    EXPECT_FALSE(parse_dns_upstreams(text, error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
}

TEST(DnsUpstream, HostServersGetPort53) {
  wire::IpAddress address;
  ASSERT_TRUE(wire::IpAddress::parse("127.0.0.53", address));
  auto upstreams = dns_upstreams_from({address});
  ASSERT_EQ(upstreams.size(), 1u);
  EXPECT_EQ(to_string(upstreams[0]), "127.0.0.53:53");
}

}  // namespace
}  // namespace rtether::relay
