// format_http_response: the metrics endpoint's answers (RFC 9112 4).
#include "wire/http_response.hpp"

#include <gtest/gtest.h>

namespace rtether::wire {
namespace {

TEST(HttpResponse, OkCarriesLengthTypeAndClose) {
  HttpResponse response;
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  response.body = "m 1\n";
  EXPECT_EQ(format_http_response(response),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            "Content-Length: 4\r\n"
            "Connection: close\r\n\r\n"
            "m 1\n");
}

TEST(HttpResponse, MethodNotAllowedNamesTheAllowedOnes) {
  HttpResponse response{405, "Method Not Allowed", "text/plain; charset=utf-8", "GET, HEAD",
                        "no\n"};
  EXPECT_EQ(format_http_response(response),
            "HTTP/1.1 405 Method Not Allowed\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 3\r\n"
            "Allow: GET, HEAD\r\n"
            "Connection: close\r\n\r\n"
            "no\n");
}

TEST(HttpResponse, HeadKeepsTheLengthAndDropsTheBody) {
  HttpResponse response;
  response.body = "12345";
  response.head_only = true;
  EXPECT_EQ(format_http_response(response),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 5\r\n"
            "Connection: close\r\n\r\n");
}

}  // namespace
}  // namespace rtether::wire
