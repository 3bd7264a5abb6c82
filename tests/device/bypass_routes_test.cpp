// BypassRoutes::covered: which net_gateway prefixes a tun route would catch
// (those get an explicit route around the tun; the others need none).
#include "device/bypass_routes.hpp"

#include <gtest/gtest.h>

namespace rtether::device {
namespace {

wire::IpPrefix prefix(const std::string& text) {
  std::string error;
  auto parsed = wire::parse_prefix(text, error);
  EXPECT_TRUE(parsed) << text << ": " << error;
  return *parsed;
}

TEST(BypassRoutes, ARouteIsCoveredByAWiderOrEqualTunRouteOfItsVersion) {
  std::vector<wire::IpPrefix> def1 = {prefix("0.0.0.0/1"), prefix("128.0.0.0/1")};
  EXPECT_TRUE(BypassRoutes::covered(prefix("198.51.100.0/24"), def1));
  EXPECT_TRUE(BypassRoutes::covered(prefix("10.99.0.0/16"), def1));
  std::vector<wire::IpPrefix> narrow = {prefix("192.168.77.0/24"), prefix("fd01::/64")};
  EXPECT_TRUE(BypassRoutes::covered(prefix("192.168.77.128/25"), narrow));
  EXPECT_TRUE(BypassRoutes::covered(prefix("192.168.77.0/24"), narrow));
  EXPECT_FALSE(BypassRoutes::covered(prefix("192.168.0.0/16"), narrow));  // wider than the tun's
  EXPECT_FALSE(BypassRoutes::covered(prefix("10.99.0.0/16"), narrow));
  EXPECT_TRUE(BypassRoutes::covered(prefix("fd01::/80"), narrow));
  EXPECT_FALSE(BypassRoutes::covered(prefix("2001:db8::/32"), def1));  // no IPv6 tun route
  EXPECT_TRUE(BypassRoutes::covered(prefix("2001:db8::/32"), {prefix("::/0")}));
}

}  // namespace
}  // namespace rtether::device
