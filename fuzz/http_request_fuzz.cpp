// Fuzz target: HTTP request heads as the metrics endpoint reads them. A
// complete head lies inside the input and the limit, its views lie inside
// the head, and the verdict depends only on the head's bytes: the same head
// parses the same with anything behind it, and every shorter prefix of it
// is incomplete or already bad, never complete. The endpoint's answer to
// any verdict is a well-formed response.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "relay/metrics_server.hpp"
#include "wire/http_request.hpp"

namespace {
void require(bool condition) {
  if (!condition) std::abort();
}

bool inside(std::string_view part, const std::uint8_t* data, std::size_t size) {
  auto* begin = reinterpret_cast<const std::uint8_t*>(part.data());
  return part.empty() || (begin >= data && begin + part.size() <= data + size);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace wire = rtether::wire;
  // The first byte picks the limit, so TooLarge is reached at every length.
  if (size == 0) return 0;
  const std::size_t limit = 16 + std::size_t{data[0]} * 4;
  const wire::Bytes input{data + 1, size - 1};
  auto head = wire::parse_http_request(input, limit);
  if (head.status == wire::HttpParseStatus::TooLarge) require(input.size() >= limit);
  if (head.status == wire::HttpParseStatus::Incomplete) require(input.size() < limit);

  std::string answer =
      rtether::relay::MetricsServer::respond(head, [] { return std::string("m 1\n"); });
  require(answer.starts_with("HTTP/1.1 ") && answer.find("\r\n\r\n") != std::string::npos);
  if (head.status != wire::HttpParseStatus::Complete) return 0;

  require(head.head_size >= 4 && head.head_size <= input.size() && head.head_size <= limit);
  require(inside(head.method, input.data(), head.head_size));
  require(inside(head.target, input.data(), head.head_size));
  require(!head.method.empty() && !head.target.empty() && head.target.starts_with(head.path));
  require(head.minor_version >= 0 && head.minor_version <= 9);

  auto alone = wire::parse_http_request(input.first(head.head_size), limit);
  require(alone.status == wire::HttpParseStatus::Complete && alone.head_size == head.head_size &&
          alone.method == head.method && alone.target == head.target);
  for (std::size_t cut = 0; cut < head.head_size; ++cut)
    require(wire::parse_http_request(input.first(cut), limit).status !=
            wire::HttpParseStatus::Complete);
  return 0;
}
