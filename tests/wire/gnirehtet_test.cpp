// Gnirehtet's fixed values: each constant is the address or number its
// comment names, in the text form users and Gnirehtet's app see.
#include "wire/gnirehtet.hpp"

#include <gtest/gtest.h>

namespace rtether::wire::gnirehtet {
namespace {

TEST(GnirehtetConstants, TheRelayListensOnGnirehtetsPortBehindItsAbstractSocket) {
  EXPECT_EQ(kRelayPort, 31416);
  EXPECT_STREQ(kAbstractSocketName, "gnirehtet");
}

TEST(GnirehtetConstants, TheDeviceAddressesAreTenZeroZeroTwoAndFd00Two) {
  EXPECT_EQ(kDeviceAddressV4.version, IpVersion::V4);
  EXPECT_EQ(kDeviceAddressV4.to_string(), "10.0.0.2");
  EXPECT_EQ(kDeviceAddressV6.version, IpVersion::V6);
  EXPECT_EQ(kDeviceAddressV6.to_string(), "fd00::2");
}

TEST(GnirehtetConstants, TheLoopbackAliasesStandForTheHostLoopback) {
  EXPECT_EQ(kHostLoopbackAliasV4.to_string(), "10.0.2.2");
  EXPECT_EQ(kHostLoopbackAliasV6.to_string(), "fd00::2:2");
  EXPECT_EQ(kHostLoopbackV4.to_string(), "127.0.0.1");
  EXPECT_EQ(kHostLoopbackV6.to_string(), "::1");
}

TEST(GnirehtetConstants, TheConstantsEqualTheirParsedTextForm) {
  // Same value as parse() makes, so == against parsed addresses holds.
  for (const IpAddress& constant : {kDeviceAddressV4, kDeviceAddressV6, kHostLoopbackAliasV4,
                                    kHostLoopbackAliasV6, kHostLoopbackV4, kHostLoopbackV6,
                                    kResolverAliasV4, kResolverAliasV6, kDefaultDnsServer}) {
    IpAddress parsed;
    ASSERT_TRUE(IpAddress::parse(constant.to_string(), parsed));
    EXPECT_EQ(parsed, constant);
  }
  EXPECT_EQ(kResolverAliasV4.to_string(), "10.0.2.3");
  EXPECT_EQ(kResolverAliasV6.to_string(), "fd00::2:3");
  EXPECT_EQ(kDefaultDnsServer, kResolverAliasV4);
}

}  // namespace
}  // namespace rtether::wire::gnirehtet
