// Base64 against RFC 4648 section 10's test vectors, and what it refuses.
#include "wire/base64.hpp"

#include <gtest/gtest.h>

namespace rtether::wire {
namespace {

std::vector<std::uint8_t> bytes(std::string_view text) { return {text.begin(), text.end()}; }

TEST(Base64, EncodesTextAsItsBytes) {
  EXPECT_EQ(base64_encode(std::string_view("foobar")), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string_view("\xff\xfe")), "//4=");
  EXPECT_EQ(base64_encode(std::string_view("user:pa ss")), "dXNlcjpwYSBzcw==");
}

TEST(Base64, EncodesTheRfcVectors) {
  EXPECT_EQ(base64_encode(bytes("")), "");
  EXPECT_EQ(base64_encode(bytes("f")), "Zg==");
  EXPECT_EQ(base64_encode(bytes("fo")), "Zm8=");
  EXPECT_EQ(base64_encode(bytes("foo")), "Zm9v");
  EXPECT_EQ(base64_encode(bytes("foob")), "Zm9vYg==");
  EXPECT_EQ(base64_encode(bytes("fooba")), "Zm9vYmE=");
  EXPECT_EQ(base64_encode(bytes("foobar")), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::vector<std::uint8_t>{0xfb, 0xff}), "+/8=");
}

TEST(Base64, DecodesWhatItEncodes) {
  for (std::string_view text : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    EXPECT_EQ(base64_decode(base64_encode(bytes(text))), bytes(text)) << text;
  }
  EXPECT_EQ(base64_decode("+/8="), (std::vector<std::uint8_t>{0xfb, 0xff}));
}

TEST(Base64, RefusesWhatIsNotPaddedBase64) {
  EXPECT_FALSE(base64_decode("Zm9"));       // not a multiple of 4
  EXPECT_FALSE(base64_decode("Zm9v!A=="));  // outside the alphabet
  EXPECT_FALSE(base64_decode("Zg==Zm9v"));  // padding in the middle
  EXPECT_FALSE(base64_decode("Z==="));      // three padding characters
  EXPECT_FALSE(base64_decode("Zg=v"));      // data after padding
  EXPECT_FALSE(base64_decode("Zh=="));      // bits set under the padding (RFC 4648 3.5)
  EXPECT_FALSE(base64_decode("Zm9="));
}

}  // namespace
}  // namespace rtether::wire
