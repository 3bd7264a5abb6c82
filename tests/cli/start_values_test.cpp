// The -d/-r lists sent to the Gnirehtet app are the validated values, in
// canonical text joined with ',' (no space ever reaches adb's shell line).
#include "cli/start_values.hpp"

#include <gtest/gtest.h>

namespace rtether::cli {
namespace {

TEST(CanonicalDnsList, SpacesAroundItemsAreDropped) {
  std::string error;
  EXPECT_EQ(canonical_dns_list("8.8.8.8, 1.1.1.1", error), "8.8.8.8,1.1.1.1");
  EXPECT_EQ(canonical_dns_list(" 192.0.2.53 ", error), "192.0.2.53");
  EXPECT_EQ(canonical_dns_list("192.0.2.53,\t2001:DB8:0::53", error), "192.0.2.53,2001:db8::53");
}

TEST(CanonicalDnsList, BadValuesStayErrors) {
  std::string error;
  EXPECT_FALSE(canonical_dns_list("8.8.8.8,,1.1.1.1", error));
  EXPECT_FALSE(error.empty());
  error.clear();
  EXPECT_FALSE(canonical_dns_list("8.8.8.8 1.1.1.1", error));
  EXPECT_FALSE(error.empty());
}

TEST(CanonicalRouteList, SpacesDroppedHostBitsClearedBareAddressIsAHostRoute) {
  std::string error;
  EXPECT_EQ(canonical_route_list("10.0.0.0/8, 192.168.0.0/16", error),
            "10.0.0.0/8,192.168.0.0/16");
  EXPECT_EQ(canonical_route_list(" 10.1.2.3/8 ,192.0.2.1", error), "10.0.0.0/8,192.0.2.1/32");
  EXPECT_EQ(canonical_route_list("0.0.0.0/0", error), "0.0.0.0/0");
}

TEST(CanonicalRouteList, BadValuesStayErrors) {
  std::string error;
  EXPECT_FALSE(canonical_route_list("10.0.0.0/33", error));
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(canonical_route_list("10.0.0.0/8 192.0.2.0/24", error));
}

}  // namespace
}  // namespace rtether::cli
