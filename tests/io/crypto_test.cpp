// io/crypto.hpp: HMAC-SHA256 against RFC 4231's test cases (the same on
// every OS backend), random bytes, and the constant-time comparison.
#include "io/crypto.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rtether::io {
namespace {

wire::Bytes text(const std::string& value) {
  return {reinterpret_cast<const std::uint8_t*>(value.data()), value.size()};
}

std::string hex(const Sha256Digest& digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (auto byte : digest) {
    out += kDigits[byte >> 4];
    out += kDigits[byte & 0xF];
  }
  return out;
}

TEST(HmacSha256, Rfc4231TestCase1) {
  std::vector<std::uint8_t> key(20, 0x0b);
  EXPECT_EQ(hex(hmac_sha256(key, text("Hi There"))),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(HmacSha256, Rfc4231TestCase2ShortKey) {
  EXPECT_EQ(hex(hmac_sha256(text("Jefe"), text("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256, Rfc4231TestCase6KeyLongerThanABlock) {
  std::vector<std::uint8_t> key(131, 0xaa);
  EXPECT_EQ(hex(hmac_sha256(key, text("Test Using Larger Than Block-Size Key - Hash Key First"))),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(RandomBytes, FillsTheBufferDifferentlyEachTime) {
  std::vector<std::uint8_t> first(32), second(32);
  ASSERT_FALSE(random_bytes(first));
  ASSERT_FALSE(random_bytes(second));
  EXPECT_NE(first, second);  // 2^-256 to fail by chance
  EXPECT_NE(first, std::vector<std::uint8_t>(32, 0));
}

TEST(EqualInConstantTime, ComparesContentAndLength) {
  EXPECT_TRUE(equal_in_constant_time(text("abcd"), text("abcd")));
  EXPECT_FALSE(equal_in_constant_time(text("abcd"), text("abce")));
  EXPECT_FALSE(equal_in_constant_time(text("abcd"), text("xbcd")));
  EXPECT_FALSE(equal_in_constant_time(text("abc"), text("abcd")));
  EXPECT_TRUE(equal_in_constant_time(text(""), text("")));
}

}  // namespace
}  // namespace rtether::io
