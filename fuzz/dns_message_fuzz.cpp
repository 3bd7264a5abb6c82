// Fuzz target: DNS messages as the relay's forwarder reads them (device
// queries, upstream answers). A parsed message's question lies inside it,
// matches itself, and its SERVFAIL answer parses back as a response with
// the same ID and question, its truncated form keeps header and question
// with TC set; the ID is written where it is read.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "wire/dns_message.hpp"

namespace {
void require(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace wire = rtether::wire;
  const wire::Bytes message{data, size};
  auto parsed = wire::parse_dns_message(message);
  auto query = wire::parse_dns_query(message);
  if (!parsed) {
    require(!query);
    return 0;
  }
  if (query) require(!query->response && query->opcode == 0);
  require(parsed->question_end >= wire::kDnsHeaderSize + 1 + 4);
  require(parsed->question_end <= size && parsed->question_end <= wire::kDnsMaxQuestionEnd);
  require(parsed->id == wire::dns_id(message));
  require(wire::same_dns_question(message, *parsed, message, *parsed));

  std::vector<std::uint8_t> failure(parsed->question_end);
  require(wire::write_dns_server_failure(failure, message, *parsed) == parsed->question_end);
  auto answer = wire::parse_dns_message(failure);
  require(answer.has_value());
  require(answer->response && answer->id == parsed->id && answer->opcode == parsed->opcode &&
          answer->rcode == wire::dns_rcode::kServerFailure && !answer->truncated);
  require(wire::same_dns_question(message, *parsed, failure, *answer));

  std::vector<std::uint8_t> truncated(parsed->question_end);
  require(wire::write_dns_truncated(truncated, message, *parsed) == parsed->question_end);
  auto cut = wire::parse_dns_message(truncated);
  require(cut.has_value());
  require(cut->truncated && cut->id == parsed->id && cut->response == parsed->response &&
          cut->rcode == parsed->rcode && cut->question_end == parsed->question_end);

  std::vector<std::uint8_t> copy(data, data + size);
  wire::set_dns_id(copy, static_cast<std::uint16_t>(parsed->id ^ 0xFFFF));
  auto renumbered = wire::parse_dns_message(copy);
  require(renumbered && renumbered->id == (parsed->id ^ 0xFFFF) &&
          renumbered->question_end == parsed->question_end);
  return 0;
}
