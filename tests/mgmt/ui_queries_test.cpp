// The daemon's >PROXY, >PASSWORD and >PK_SIGN lines as recorded from
// OpenVPN master 3de92608 (FAKE_ANDROID) in tests/e2e/test_openvpn.py, and
// the OpenVPN layouts they come in (init.c, manage.c, xkey_helper.c).
#include "mgmt/ui_queries.hpp"

#include <gtest/gtest.h>

namespace rtether::mgmt {
namespace {

using Kind = SignatureAlgorithm::Kind;

TEST(ProxyQuery, ReadsTheRecordedLine) {
  auto query = parse_proxy_query("1,UDP,192.0.2.1");
  ASSERT_TRUE(query);
  EXPECT_EQ(query->remote_index, 1);
  EXPECT_TRUE(query->udp);
  EXPECT_EQ(query->host, "192.0.2.1");
  auto tcp = parse_proxy_query("2,TCP,vpn.example.com");
  ASSERT_TRUE(tcp);
  EXPECT_FALSE(tcp->udp);
  EXPECT_FALSE(parse_proxy_query("1,SCTP,vpn.example.com"));
  EXPECT_FALSE(parse_proxy_query("x,UDP,vpn.example.com"));
  EXPECT_FALSE(parse_proxy_query("1,UDP"));
}

TEST(PasswordQuery, ReadsTheRecordedNeedsAndFailures) {
  auto auth = parse_password_query("Need 'Auth' username/password");
  ASSERT_TRUE(auth);
  EXPECT_EQ(auth->kind, PasswordQuery::Kind::Need);
  EXPECT_EQ(auth->type, "Auth");
  EXPECT_TRUE(auth->wants_username && auth->wants_password);
  auto key = parse_password_query("Need 'Private Key' password");
  ASSERT_TRUE(key);
  EXPECT_EQ(key->type, "Private Key");
  EXPECT_FALSE(key->wants_username);
  EXPECT_TRUE(key->wants_password);
  auto challenge = parse_password_query("Need 'Auth' username/password SC:1,Enter PIN");
  ASSERT_TRUE(challenge);
  EXPECT_EQ(challenge->extra, "SC:1,Enter PIN");
  auto failed = parse_password_query("Verification Failed: 'Auth' ['bad password']");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->kind, PasswordQuery::Kind::VerificationFailed);
  EXPECT_EQ(failed->type, "Auth");
  EXPECT_EQ(failed->extra, "['bad password']");
  EXPECT_FALSE(parse_password_query("Auth-Token:abc"));
  EXPECT_FALSE(parse_password_query("Need 'Auth' fingerprint"));
  EXPECT_FALSE(parse_password_query("Need Auth password"));
}

TEST(SignRequest, ReadsTheRecordedAlgorithms) {
  std::string error;
  auto ecdsa = parse_sign_request("hKY1k2cprq//GS42gc+TgLBHPkkFbOhl3GUnVE8DrQc=,ECDSA", error);
  ASSERT_TRUE(ecdsa) << error;
  EXPECT_EQ(ecdsa->algorithm.kind, Kind::Ecdsa);
  EXPECT_EQ(ecdsa->data.size(), 32u);  // a SHA-256 digest
  auto pss = parse_sign_request(
      "uYXfNnjnHjNg/1bjny7B6n2NrviRcz0nwSVDNPSqZiM=,RSA_PKCS1_PSS_PADDING,hashalg=SHA256,"
      "saltlen=digest",
      error);
  ASSERT_TRUE(pss) << error;
  EXPECT_EQ(pss->algorithm.kind, Kind::RsaPss);
  EXPECT_EQ(pss->algorithm.hash, "SHA256");
  EXPECT_EQ(pss->algorithm.salt_length, "digest");
  EXPECT_FALSE(pss->algorithm.data_is_message);
  auto pkcs1 = parse_sign_request(
      "MDEwDQYJYIZIAWUDBAIBBQAEIMpECYqIba1ZPQZOtjEbQy2VvE4583WwIMOxiHyHdFlO,RSA_PKCS1_PADDING",
      error);
  ASSERT_TRUE(pkcs1) << error;
  EXPECT_EQ(pkcs1->algorithm.kind, Kind::RsaPkcs1);
  EXPECT_EQ(pkcs1->data.size(), 51u);  // SHA-256's DigestInfo: 19 bytes of header + 32
  EXPECT_EQ(pkcs1->data[0], 0x30);
}

TEST(SignRequest, ReadsTheOtherLayoutsOfXkeyHelper) {
  std::string error;
  auto version2 = parse_sign_request("AAEC", error);  // no algorithm: a version 2 UI
  ASSERT_TRUE(version2) << error;
  EXPECT_EQ(version2->algorithm.kind, Kind::RsaPkcs1);
  auto message = parse_sign_request("AAEC,ECDSA,hashalg=SHA384,data=message", error);
  ASSERT_TRUE(message) << error;
  EXPECT_TRUE(message->algorithm.data_is_message);
  EXPECT_EQ(message->algorithm.hash, "SHA384");
  auto eddsa = parse_sign_request("AAEC,ED25519,data=message", error);
  ASSERT_TRUE(eddsa) << error;
  EXPECT_EQ(eddsa->algorithm.kind, Kind::EdDsa);
  auto none = parse_sign_request("AAEC,RSA_NO_PADDING", error);
  ASSERT_TRUE(none) << error;
  EXPECT_EQ(none->algorithm.kind, Kind::RsaNone);
}

TEST(SignRequest, RefusesWhatCannotBeSigned) {
  std::string error;
  for (const char* body :
       {"not base64!,ECDSA", ",ECDSA", "AAEC,DSA", "AAEC,RSA_PKCS1_PSS_PADDING,saltlen=max",
        "AAEC,ECDSA,data=message", "AAEC,RSA_NO_PADDING,hashalg=SHA256,data=message",
        "AAEC,ECDSA,colour=blue"}) {
    error.clear();
    EXPECT_FALSE(parse_sign_request(body, error)) << body;
    EXPECT_FALSE(error.empty()) << body;
  }
}

TEST(PkSigLines, WrapsTheBase64At64CharactersBetweenPkSigAndEnd) {
  std::vector<std::uint8_t> signature(100, 0xab);
  auto lines = pk_sig_lines(signature);
  ASSERT_EQ(lines.size(), 5u);  // 136 characters of base64: 64 + 64 + 8
  EXPECT_EQ(lines.front(), "pk-sig");
  EXPECT_EQ(lines[1].size(), 64u);
  EXPECT_EQ(lines[2].size(), 64u);
  EXPECT_EQ(lines[3].size(), 8u);
  EXPECT_EQ(lines.back(), "END");
}

}  // namespace
}  // namespace rtether::mgmt
