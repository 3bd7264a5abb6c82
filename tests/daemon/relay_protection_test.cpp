// The PROTECTFD decision: only a TCP socket to an address off this machine
// is sent to the UI to protect.
#include "daemon/relay_protection.hpp"

#include <gtest/gtest.h>

#include "wire/ip_prefix.hpp"

namespace rtether::daemon {
namespace {

bool needs(const char* text) {
  std::string error;
  auto address = wire::parse_address(text, error);
  EXPECT_TRUE(address) << error;
  return needs_protection(address);
}

TEST(RelayProtection, UnixSocketsAreNeverProtected) {
  EXPECT_FALSE(needs_protection(std::nullopt));
}

TEST(RelayProtection, LoopbackOfEitherFamilyIsNotProtected) {
  EXPECT_FALSE(needs("127.0.0.1"));
  EXPECT_FALSE(needs("127.255.0.9"));
  EXPECT_FALSE(needs("::1"));
  EXPECT_FALSE(needs("::ffff:127.0.0.1"));
}

TEST(RelayProtection, AnyOtherTcpDestinationIsProtected) {
  EXPECT_TRUE(needs("192.0.2.1"));
  EXPECT_TRUE(needs("10.0.2.2"));
  EXPECT_TRUE(needs("128.0.0.1"));
  EXPECT_TRUE(needs("2001:db8::1"));
  EXPECT_TRUE(needs("::2"));
  EXPECT_TRUE(needs("::ffff:192.0.2.1"));
}

}  // namespace
}  // namespace rtether::daemon
