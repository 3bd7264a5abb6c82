// IpAddress text: parsing as inet_pton accepts it (RFC 4291 section 2.2) and
// formatting per RFC 5952, with every example of its section 4, and both
// against libc's inet_pton/inet_ntop on generated text as the reference.
#include "wire/ip_address.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <random>
#include <string>

namespace rtether::wire {
namespace {

IpAddress v6(std::array<std::uint16_t, 8> groups) {
  std::uint8_t bytes[16];
  for (std::size_t i = 0; i < groups.size(); ++i) store_be16(bytes + 2 * i, groups[i]);
  return IpAddress::v6_from(bytes);
}

std::string canonical(const std::string& text) {
  IpAddress parsed;
  EXPECT_TRUE(IpAddress::parse(text, parsed)) << text;
  return parsed.to_string();
}

TEST(IpAddress, RoundTripsIpv4Text) {
  IpAddress parsed;
  ASSERT_TRUE(IpAddress::parse("203.0.113.9", parsed));
  EXPECT_EQ(parsed.version, IpVersion::V4);
  EXPECT_EQ(parsed, IpAddress::v4(0xCB007109));
  EXPECT_EQ(parsed.to_string(), "203.0.113.9");
  EXPECT_EQ(canonical("0.0.0.0"), "0.0.0.0");
  EXPECT_EQ(canonical("255.255.255.255"), "255.255.255.255");
  EXPECT_EQ(IpAddress::v4(0x0A000002).to_string(), "10.0.0.2");
}

TEST(IpAddress, RoundTripsIpv6TextInCanonicalForm) {
  IpAddress parsed;
  ASSERT_TRUE(IpAddress::parse("2001:0db8:0000:0000:0000:0000:0000:0001", parsed));
  EXPECT_EQ(parsed.version, IpVersion::V6);
  EXPECT_EQ(parsed.to_string(), "2001:db8::1");
}

TEST(IpAddress, ParsesEveryRfc4291TextForm) {
  EXPECT_EQ(canonical("::"), "::");
  EXPECT_EQ(canonical("::1"), "::1");
  EXPECT_EQ(canonical("1::"), "1::");
  EXPECT_EQ(canonical("fd00::2:2"), "fd00::2:2");
  EXPECT_EQ(canonical("FD00:0:0:0:0:0:0:2"), "fd00::2");
  EXPECT_EQ(canonical("1:2:3:4:5:6:7:8"), "1:2:3:4:5:6:7:8");
  EXPECT_EQ(canonical("1::2:3:4:5:6:7"), "1:0:2:3:4:5:6:7");
  EXPECT_EQ(canonical("1:2:3:4:5:6:1.2.3.4"), "1:2:3:4:5:6:102:304");
  EXPECT_EQ(canonical("::ffff:192.0.2.1"), "::ffff:192.0.2.1");
  EXPECT_EQ(canonical("::FFFF:c000:0201"), "::ffff:192.0.2.1");
  IpAddress parsed;
  ASSERT_TRUE(IpAddress::parse("::1.2.3.4", parsed));
  EXPECT_EQ(parsed, v6({0, 0, 0, 0, 0, 0, 0x0102, 0x0304}));
}

TEST(IpAddress, RejectsMalformedText) {
  IpAddress parsed = IpAddress::v4(1);
  for (const char* text : {"", "1.2.3", "256.1.1.1", "2001:db8:::1", "example.org", "1.2.3.4 "}) {
    EXPECT_FALSE(IpAddress::parse(text, parsed)) << text;
  }
  EXPECT_EQ(parsed, IpAddress::v4(1));
}

TEST(IpAddress, RejectsWhatInetPtonRejects) {
  IpAddress parsed = IpAddress::v4(1);
  for (const char* text :
       {"1.2.3.4.5", "01.2.3.4", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.-4", "1.2.3.1000", " 1.2.3.4",
        ":", ":::", ":1::2", "1::2:", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1::2::3",
        "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "1::2:3:4:5:6:7:8", "12345::", "g::1",
        "fe80::1%eth0", "1.2.3.4::", "::1.2.3.4:5", "1:2:3:4:5:6:7:1.2.3.4", "::01.2.3.4",
        "::1.2.3", "[::1]"}) {
    EXPECT_FALSE(IpAddress::parse(text, parsed)) << text;
  }
  EXPECT_EQ(parsed, IpAddress::v4(1));
}

// RFC 5952 4.1: leading zeros in a 16-bit field are suppressed, and a zero
// field is written as one 0.
TEST(IpAddressRfc5952, SuppressesLeadingZeros) {
  EXPECT_EQ(canonical("2001:0db8::0001"), "2001:db8::1");
  EXPECT_EQ(v6({0x2001, 0xdb8, 0, 1, 0x10, 0x100, 0x1000, 1}).to_string(),
            "2001:db8:0:1:10:100:1000:1");
}

// RFC 5952 4.2.1: "::" is used to its maximum capability.
TEST(IpAddressRfc5952, ShortensAsMuchAsPossible) {
  EXPECT_EQ(canonical("2001:db8:0:0:0:0:2:1"), "2001:db8::2:1");
  EXPECT_EQ(canonical("2001:db8::0:1"), "2001:db8::1");
}

// RFC 5952 4.2.2: "::" never shortens just one 16-bit 0 field.
TEST(IpAddressRfc5952, LeavesASingleZeroFieldAlone) {
  EXPECT_EQ(canonical("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");
  EXPECT_EQ(canonical("2001:db8::1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");
  EXPECT_EQ(v6({0, 1, 2, 3, 4, 5, 6, 7}).to_string(), "0:1:2:3:4:5:6:7");
  EXPECT_EQ(v6({1, 2, 3, 4, 5, 6, 7, 0}).to_string(), "1:2:3:4:5:6:7:0");
}

// RFC 5952 4.2.3: the longest run of zero fields is shortened; of equal runs
// the first.
TEST(IpAddressRfc5952, ShortensTheLongestRunAndTheFirstOfEqualRuns) {
  EXPECT_EQ(canonical("2001:0:0:1:0:0:0:1"), "2001:0:0:1::1");
  EXPECT_EQ(canonical("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
  EXPECT_EQ(v6({0, 0, 1, 0, 0, 0, 1, 0}).to_string(), "0:0:1::1:0");
  EXPECT_EQ(v6({1, 0, 0, 1, 1, 0, 0, 1}).to_string(), "1::1:1:0:0:1");
  EXPECT_EQ(v6({0, 0, 0, 1, 0, 0, 0, 0}).to_string(), "0:0:0:1::");
}

// RFC 5952 4.3: hexadecimal digits are lowercase.
TEST(IpAddressRfc5952, WritesLowercase) {
  EXPECT_EQ(canonical("2001:DB8:AAAA:BBBB:CCCC:DDDD:EEEE:FFFF"),
            "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff");
}

// RFC 5952 section 2: every way of writing the same addresses has one
// canonical form.
TEST(IpAddressRfc5952, GivesEverySection2VariantOneForm) {
  for (const char* text :
       {"2001:db8:0:0:1:0:0:1", "2001:0db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", "2001:db8::0:1:0:0:1",
        "2001:0db8::1:0:0:1", "2001:db8:0:0:1::1", "2001:db8:0000:0:1::1", "2001:DB8:0:0:1::1"}) {
    EXPECT_EQ(canonical(text), "2001:db8::1:0:0:1") << text;
  }
  for (const char* text : {"2001:db8:aaaa:bbbb:cccc:dddd:eeee:0001",
                           "2001:db8:aaaa:bbbb:cccc:dddd:eeee:001",
                           "2001:db8:aaaa:bbbb:cccc:dddd:eeee:01",
                           "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1"}) {
    EXPECT_EQ(canonical(text), "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1") << text;
  }
  for (const char* text : {"2001:db8::1", "2001:db8:0:0:0::1", "2001:db8:0:0::1", "2001:db8:0::1",
                           "2001:db8::0:1"}) {
    EXPECT_EQ(canonical(text), "2001:db8::1") << text;
  }
}

// RFC 5952 section 5: an IPv4-mapped address shows its IPv4 address dotted.
TEST(IpAddressRfc5952, WritesIpv4MappedAddressesWithADottedQuad) {
  EXPECT_EQ(v6({0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0280}).to_string(), "::ffff:192.0.2.128");
  EXPECT_EQ(v6({0, 0, 0, 0, 0, 0xffff, 0, 0}).to_string(), "::ffff:0.0.0.0");
  // Neither the deprecated IPv4-compatible form nor a near miss is mapped.
  EXPECT_EQ(v6({0, 0, 0, 0, 0, 0, 0xc000, 0x0280}).to_string(), "::c000:280");
  EXPECT_EQ(v6({0, 0, 0, 0, 1, 0xffff, 0xc000, 0x0280}).to_string(), "::1:ffff:c000:280");
}

// Random addresses (zero groups likely, sometimes IPv4-mapped), formatted
// by libc, then mutated by up to two character edits: parsing must agree
// with inet_pton on every text, and formatting with inet_ntop, except for
// the deprecated IPv4-compatible ::a.b.c.d that glibc still writes dotted.
TEST(IpAddress, AgreesWithInetPtonAndInetNtop) {
  std::mt19937 generator(5952);
  const std::string alphabet = "0123456789abcdefABCDEF:.";
  int accepted = 0;
  for (int round = 0; round < 50000; ++round) {
    std::uint8_t bytes[16];
    for (std::size_t group = 0; group < 8; ++group) {
      const auto value = static_cast<std::uint16_t>(generator() % 2 ? generator() : 0);
      store_be16(bytes + 2 * group, value);
    }
    if (generator() % 8 == 0) {
      std::fill_n(bytes, 10, 0);
      store_be16(bytes + 10, 0xFFFF);
    }
    char reference[INET6_ADDRSTRLEN];
    ASSERT_NE(inet_ntop(AF_INET6, bytes, reference, sizeof reference), nullptr);
    const IpAddress address = IpAddress::v6_from(bytes);
    const bool compatible = std::all_of(bytes, bytes + 12, [](std::uint8_t b) { return b == 0; });
    if (!compatible) {
      EXPECT_EQ(address.to_string(), reference);
    }

    std::string text = round % 4 == 0 ? address.to_string() : reference;
    for (std::uint32_t edits = generator() % 3; edits > 0 && !text.empty(); --edits) {
      const std::size_t at = generator() % text.size();
      const char c = alphabet[generator() % alphabet.size()];
      switch (generator() % 3) {
        case 0: text.erase(at, 1); break;
        case 1: text.insert(at, 1, c); break;
        default: text[at] = c; break;
      }
    }
    std::uint8_t parsed_reference[16] = {};
    const bool v4 = inet_pton(AF_INET, text.c_str(), parsed_reference) == 1;
    const bool v6 = !v4 && inet_pton(AF_INET6, text.c_str(), parsed_reference) == 1;
    IpAddress parsed;
    ASSERT_EQ(IpAddress::parse(text, parsed), v4 || v6) << text;
    if (!v4 && !v6) continue;
    ++accepted;
    EXPECT_EQ(parsed.version, v4 ? IpVersion::V4 : IpVersion::V6) << text;
    EXPECT_EQ(std::memcmp(parsed.bytes.data(), parsed_reference, parsed.size()), 0) << text;
  }
  EXPECT_GT(accepted, 10000);
}

}  // namespace
}  // namespace rtether::wire
