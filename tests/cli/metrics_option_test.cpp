// --metrics [ADDR:]PORT: the address syntax, loopback by default, and the
// remote-access rule.
#include "cli/metrics_option.hpp"

#include <gtest/gtest.h>

namespace rtether::cli {
namespace {

std::string endpoint_text(const std::string& value) {
  std::string error;
  auto at = parse_metrics_address(value, error);
  if (!at) return "error: " + error;
  return at->address.to_string() + " " + std::to_string(at->port);
}

TEST(MetricsAddress, PortAloneListensOnLoopback) {
  EXPECT_EQ(endpoint_text("9464"), "127.0.0.1 9464");
}

TEST(MetricsAddress, Ipv4AndBracketedIpv6) {
  EXPECT_EQ(endpoint_text("127.0.0.2:80"), "127.0.0.2 80");
  EXPECT_EQ(endpoint_text("[::1]:9464"), "::1 9464");
  EXPECT_EQ(endpoint_text("192.0.2.10:65535"), "192.0.2.10 65535");
}

TEST(MetricsAddress, BadValuesSayWhy) {
  EXPECT_EQ(endpoint_text("0"), "error: --metrics 0: the port must be 1-65535");
  EXPECT_EQ(endpoint_text("65536"), "error: --metrics 65536: the port must be 1-65535");
  EXPECT_EQ(endpoint_text("127.0.0.1:"), "error: --metrics 127.0.0.1:: the port must be 1-65535");
  EXPECT_EQ(endpoint_text("::1:9464"),
            "error: --metrics ::1:9464: expected IPV4:PORT, [IPV6]:PORT or PORT");
  EXPECT_EQ(endpoint_text("[127.0.0.1]:80"),
            "error: --metrics [127.0.0.1]:80: expected [IPV6]:PORT");
  EXPECT_EQ(endpoint_text("[::1]"), "error: --metrics [::1]: expected [IPV6]:PORT");
  EXPECT_EQ(endpoint_text("localhost:80"),
            "error: --metrics localhost:80: expected IPV4:PORT, [IPV6]:PORT or PORT");
  EXPECT_EQ(endpoint_text(""), "error: --metrics : the port must be 1-65535");
}

TEST(MetricsListener, NoneWithoutAValue) {
  auto listener = check_metrics_option("", false);
  EXPECT_FALSE(listener.at.has_value());
  EXPECT_EQ(listener.refused, "");
}

TEST(MetricsListener, LoopbackNeedsNoPermission) {
  auto listener = check_metrics_option("[::1]:9464", false);
  ASSERT_TRUE(listener.at.has_value());
  EXPECT_EQ(listener.at->port, 9464);
}

TEST(MetricsListener, BeyondLoopbackOnlyWithAllowRemote) {
  auto refused = check_metrics_option("192.0.2.10:9464", false);
  EXPECT_FALSE(refused.at.has_value());
  EXPECT_NE(refused.refused.find("add --allow-remote"), std::string::npos) << refused.refused;
  auto allowed = check_metrics_option("192.0.2.10:9464", true);
  ASSERT_TRUE(allowed.at.has_value());
  EXPECT_EQ(allowed.refused, "");
}

}  // namespace
}  // namespace rtether::cli
