// DnsMessage: the header and the one question of queries and answers, every
// way a question can be malformed, question matching and SERVFAIL.
#include "wire/dns_message.hpp"

#include <gtest/gtest.h>

#include "wire/dns_test_messages.hpp"

namespace rtether::wire {
namespace {

using testing::dns_answer;
using testing::dns_message;
using testing::dns_query;

TEST(DnsMessage, AQueryGivesItsIdFlagsAndTheEndOfItsQuestion) {
  auto query = dns_query(0x1234, "only.test");
  auto parsed = parse_dns_query(query);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->id, 0x1234);
  EXPECT_FALSE(parsed->response);
  EXPECT_EQ(parsed->opcode, 0);
  EXPECT_FALSE(parsed->truncated);
  // 12 header bytes, 4only4test0 (11), QTYPE and QCLASS (4).
  EXPECT_EQ(parsed->question_end, 27u);
  EXPECT_EQ(parsed->question_end, query.size());
}

TEST(DnsMessage, AnAnswerParsesAsAMessageButNotAsAQuery) {
  auto answer = dns_answer(dns_query(7, "only.test"), 7, 0xC0000277);
  auto parsed = parse_dns_message(answer);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->response);
  EXPECT_EQ(parsed->question_end, 27u) << "records after the question are not read";
  EXPECT_FALSE(parse_dns_query(answer));
}

TEST(DnsMessage, TheTruncatedBitAndRcodeAreRead) {
  auto answer = dns_message(1, 0x8000 | 0x0200 | 3, "a.test");
  auto parsed = parse_dns_message(answer);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->truncated);
  EXPECT_EQ(parsed->rcode, 3);
}

TEST(DnsMessage, TheRootNameIsAValidQuestion) {
  auto query = dns_query(1, "");
  auto parsed = parse_dns_query(query);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->question_end, 12u + 1 + 4);
}

TEST(DnsMessage, ShortOrQuestionlessMessagesAreRefused) {
  auto query = dns_query(1, "only.test");
  for (std::size_t size = 0; size < query.size(); ++size)
    EXPECT_FALSE(parse_dns_message(Bytes{query}.first(size))) << "cut at " << size;
  auto none = query;
  none[5] = 0;  // QDCOUNT 0
  EXPECT_FALSE(parse_dns_message(none));
  auto two = query;
  two[5] = 2;  // RFC 9619: one question
  EXPECT_FALSE(parse_dns_message(two));
}

TEST(DnsMessage, OtherOpcodesAreNoQuery) {
  auto notify = dns_message(1, 4 << 11, "only.test");  // NOTIFY
  EXPECT_TRUE(parse_dns_message(notify));
  EXPECT_FALSE(parse_dns_query(notify));
}

TEST(DnsMessage, LabelsLongerThan63BytesAreRefused) {
  EXPECT_TRUE(parse_dns_query(dns_query(1, std::string(63, 'a') + ".test")));
  EXPECT_FALSE(parse_dns_query(dns_query(1, std::string(64, 'a') + ".test")));
}

TEST(DnsMessage, NamesLongerThan255BytesAreRefused) {
  // Four labels of 63 bytes: 4 * 64 + 1 = 257 bytes on the wire.
  const std::string label(63, 'a');
  EXPECT_FALSE(parse_dns_query(dns_query(1, label + "." + label + "." + label + "." + label)));
  // 3 * 64 + 62 + 1 = 255: the longest name.
  EXPECT_TRUE(parse_dns_query(
      dns_query(1, label + "." + label + "." + label + "." + std::string(61, 'a'))));
}

TEST(DnsMessage, CompressionPointersAndReservedLabelTypesAreRefusedInTheQuestion) {
  for (std::uint8_t type : {0xC0, 0x40, 0x80}) {
    auto query = dns_query(1, "only.test");
    query[12] = type;
    EXPECT_FALSE(parse_dns_query(query)) << int{type};
  }
}

TEST(DnsMessage, IdsAreReadAndWrittenInPlace) {
  auto query = dns_query(0xBEEF, "only.test");
  EXPECT_EQ(dns_id(query), 0xBEEF);
  set_dns_id(query, 0x0102);
  EXPECT_EQ(query[0], 1);
  EXPECT_EQ(query[1], 2);
  EXPECT_EQ(parse_dns_query(query)->id, 0x0102);
}

TEST(DnsMessage, QuestionsMatchCaseInsensitivelyByNameTypeAndClass) {
  auto query = dns_query(1, "Only.Test");
  auto same = dns_query(2, "oNLY.tEST");
  auto other = dns_query(1, "only.tesu");
  auto longer = dns_query(1, "only.tests");
  auto other_type = dns_query(1, "only.test");
  other_type[other_type.size() - 3] = 28;  // AAAA
  const auto q = *parse_dns_message(query);
  EXPECT_TRUE(same_dns_question(query, q, same, *parse_dns_message(same)));
  EXPECT_FALSE(same_dns_question(query, q, other, *parse_dns_message(other)));
  EXPECT_FALSE(same_dns_question(query, q, longer, *parse_dns_message(longer)));
  EXPECT_FALSE(same_dns_question(query, q, other_type, *parse_dns_message(other_type)));
}

TEST(DnsMessage, ServerFailureKeepsIdOpcodeRdAndQuestionWithNoRecords) {
  auto query = dns_query(0x4242, "only.test");
  query[11] = 1;  // ARCOUNT 1 (an EDNS OPT record would follow)
  const auto parsed = *parse_dns_query(query);
  std::vector<std::uint8_t> out(512);
  const std::size_t size = write_dns_server_failure(out, query, parsed);
  ASSERT_EQ(size, parsed.question_end);
  out.resize(size);
  auto answer = parse_dns_message(out);
  ASSERT_TRUE(answer);
  EXPECT_TRUE(answer->response);
  EXPECT_EQ(answer->id, 0x4242);
  EXPECT_EQ(answer->rcode, dns_rcode::kServerFailure);
  EXPECT_EQ(out[2] & 0x01, 1) << "RD copied";
  EXPECT_EQ(out[3] & 0x80, 0x80) << "RA set";
  for (std::size_t i = 6; i < 12; ++i) EXPECT_EQ(out[i], 0) << "no records, byte " << i;
  EXPECT_TRUE(same_dns_question(query, parsed, out, *answer));
  std::vector<std::uint8_t> small(parsed.question_end - 1);
  EXPECT_EQ(write_dns_server_failure(small, query, parsed), 0u);
}

TEST(DnsMessage, TruncatedKeepsHeaderAndQuestionSetsTcAndDropsTheRecords) {
  auto answer = dns_query(0x5151, "big.test");
  answer[2] |= 0x81;  // QR, RD
  answer[3] = 0x83;   // RA, NXDOMAIN
  answer[7] = 2;      // ANCOUNT 2
  answer[11] = 1;     // ARCOUNT 1
  const auto parsed = *parse_dns_message(answer);
  answer.resize(answer.size() + 600, 0xAB);  // the records, not read
  std::vector<std::uint8_t> out(kDnsClassicUdpMessage);
  const std::size_t size = write_dns_truncated(out, answer, parsed);
  ASSERT_EQ(size, parsed.question_end);
  out.resize(size);
  auto cut = parse_dns_message(out);
  ASSERT_TRUE(cut);
  EXPECT_TRUE(cut->truncated);
  EXPECT_TRUE(cut->response);
  EXPECT_EQ(cut->id, 0x5151);
  EXPECT_EQ(cut->rcode, 3);
  EXPECT_EQ(out[2] & 0x01, 1) << "RD kept";
  for (std::size_t i = 6; i < 12; ++i) EXPECT_EQ(out[i], 0) << "no records, byte " << i;
  EXPECT_TRUE(same_dns_question(answer, parsed, out, *cut));
  std::vector<std::uint8_t> small(parsed.question_end - 1);
  EXPECT_EQ(write_dns_truncated(small, answer, parsed), 0u);
}

}  // namespace
}  // namespace rtether::wire
