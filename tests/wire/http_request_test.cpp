// parse_http_request: HTTP/1.x request heads (RFC 9112) as the metrics
// endpoint reads them.
#include "wire/http_request.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace rtether::wire {
namespace {

constexpr std::size_t kLimit = 8192;

HttpRequestHead parse(std::string_view text, std::size_t limit = kLimit) {
  return parse_http_request(Bytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()),
                            limit);
}

// What Prometheus 2.42 sends when it scrapes (its fields, in its order).
constexpr std::string_view kPrometheusScrape =
    "GET /metrics HTTP/1.1\r\n"
    "Host: 127.0.0.1:9464\r\n"
    "User-Agent: Prometheus/2.42.0\r\n"
    "Accept: "
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
    "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n"
    "Accept-Encoding: gzip\r\n"
    "X-Prometheus-Scrape-Timeout-Seconds: 10\r\n"
    "\r\n";

TEST(HttpRequest, PrometheusScrapeIsComplete) {
  auto head = parse(kPrometheusScrape);
  ASSERT_EQ(head.status, HttpParseStatus::Complete);
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.target, "/metrics");
  EXPECT_EQ(head.path, "/metrics");
  EXPECT_EQ(head.minor_version, 1);
  EXPECT_EQ(head.head_size, kPrometheusScrape.size());
}

TEST(HttpRequest, EveryPrefixOfAHeadIsIncomplete) {
  for (std::size_t size = 0; size < kPrometheusScrape.size(); ++size)
    EXPECT_EQ(parse(kPrometheusScrape.substr(0, size)).status, HttpParseStatus::Incomplete) << size;
}

TEST(HttpRequest, BytesAfterTheHeadAreNotPartOfIt) {
  std::string text = std::string(kPrometheusScrape) + "GET / HTTP/1.1\r\n";
  auto head = parse(text);
  ASSERT_EQ(head.status, HttpParseStatus::Complete);
  EXPECT_EQ(head.head_size, kPrometheusScrape.size());
}

TEST(HttpRequest, QueryIsCutFromThePath) {
  auto head = parse("GET /metrics?name=x HTTP/1.0\r\n\r\n");
  ASSERT_EQ(head.status, HttpParseStatus::Complete);
  EXPECT_EQ(head.target, "/metrics?name=x");
  EXPECT_EQ(head.path, "/metrics");
  EXPECT_EQ(head.minor_version, 0);
}

TEST(HttpRequest, BareLineFeedsEndLines) {
  auto head = parse("HEAD /metrics HTTP/1.1\nHost: x\n\n");
  ASSERT_EQ(head.status, HttpParseStatus::Complete);
  EXPECT_EQ(head.method, "HEAD");
}

TEST(HttpRequest, Http10NeedsNoHost) {
  EXPECT_EQ(parse("GET /metrics HTTP/1.0\r\n\r\n").status, HttpParseStatus::Complete);
}

TEST(HttpRequest, Http11NeedsExactlyOneHost) {
  EXPECT_EQ(parse("GET /metrics HTTP/1.1\r\n\r\n").status, HttpParseStatus::BadRequest);
  EXPECT_EQ(parse("GET /metrics HTTP/1.1\r\nHost: a\r\nhOsT: b\r\n\r\n").status,
            HttpParseStatus::BadRequest);
  EXPECT_EQ(parse("GET /metrics HTTP/1.1\r\nHOST: a\r\n\r\n").status, HttpParseStatus::Complete);
}

TEST(HttpRequest, FieldValuesMayBeEmptyAndPadded) {
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost:x\r\nX-Empty:\r\nX-Pad: \t v \t\r\n\r\n").status,
            HttpParseStatus::Complete);
}

TEST(HttpRequest, MalformedRequestLinesAreBad) {
  for (std::string_view line :
       {"GET /metrics\r\n\r\n", "GET  /metrics HTTP/1.1\r\n\r\n", "GET /metrics HTTP/2.0\r\n\r\n",
        "GET /metrics HTTP/1.10\r\n\r\n", "GET /metrics http/1.1\r\n\r\n",
        "G(T /metrics HTTP/1.0\r\n\r\n", "GET /me\x01trics HTTP/1.0\r\n\r\n",
        "GET /metrics HTTP/1.0 \r\n\r\n", "GET /metrics HTTP/1.0\r\r\n\r\n"})
    EXPECT_EQ(parse(line).status, HttpParseStatus::BadRequest) << line;
}

TEST(HttpRequest, MalformedFieldLinesAreBad) {
  for (std::string_view fields :
       {"Host x\r\n", "Host : x\r\n", ": x\r\n", "Ho st: x\r\n", " folded\r\n",
        "X-A: a\r\n\tfolded\r\n", "X-A: a\x7f\r\n", "X-A: a\rb\r\n", "X-A: a\x1b\r\n"}) {
    std::string text = "GET /metrics HTTP/1.0\r\n" + std::string(fields) + "\r\n";
    EXPECT_EQ(parse(text).status, HttpParseStatus::BadRequest) << fields;
  }
}

TEST(HttpRequest, NulInAValueIsBad) {
  using namespace std::string_literals;
  EXPECT_EQ(parse("GET / HTTP/1.0\r\nX-A: \0\r\n\r\n"s).status, HttpParseStatus::BadRequest);
}

TEST(HttpRequest, OneEmptyLineBeforeTheRequestLineIsIgnored) {
  auto head = parse("\r\nGET /metrics HTTP/1.0\r\n\r\n");
  ASSERT_EQ(head.status, HttpParseStatus::Complete);
  EXPECT_EQ(head.path, "/metrics");
  EXPECT_EQ(head.head_size, 27u);
  EXPECT_EQ(parse("\r\n\r\nGET /metrics HTTP/1.0\r\n\r\n").status, HttpParseStatus::BadRequest);
}

TEST(HttpRequest, ObsTextInValuesIsAccepted) {
  EXPECT_EQ(parse("GET / HTTP/1.0\r\nX-A: caf\xc3\xa9\r\n\r\n").status, HttpParseStatus::Complete);
}

TEST(HttpRequest, ErrorIsFoundBeforeTheHeadEnds) {
  EXPECT_EQ(parse("BAD REQUEST LINE\r\nHost:").status, HttpParseStatus::BadRequest);
}

TEST(HttpRequest, NoEndWithinTheLimitIsTooLarge) {
  std::string text = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Long: " + std::string(100, 'a');
  EXPECT_EQ(parse(text, 64).status, HttpParseStatus::TooLarge);
  EXPECT_EQ(parse(text.substr(0, 63), 64).status, HttpParseStatus::Incomplete);
  // A head that ends past the limit is too large even when it has arrived.
  EXPECT_EQ(parse(text + "\r\n\r\n", 64).status, HttpParseStatus::TooLarge);
  // One that fits exactly is complete.
  std::string exact = "GET / HTTP/1.0\r\n\r\n";
  EXPECT_EQ(parse(exact, exact.size()).status, HttpParseStatus::Complete);
}

}  // namespace
}  // namespace rtether::wire
