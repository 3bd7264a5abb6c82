// DnsMessage: what a DNS forwarder reads of a message (RFC 1035 4.1): the
// header's ID and flags and the extent of the one question. Nothing past
// the question is parsed: answers go back to the device byte for byte, only
// their ID restored.
//
// A query the relay forwards is a standard query (OPCODE 0, QR 0) with
// exactly one question (RFC 9619: QDCOUNT is 1 for OPCODE QUERY) whose name
// is a sequence of labels of at most 63 bytes, 255 bytes in all (RFC 1035
// 2.3.4), with no compression pointer: the question is the first name of
// its message, so there is nothing before it to point at (RFC 1035 4.1.4).
// A response is matched to its query by ID and by the same question.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "wire/bytes.hpp"

namespace rtether::wire {

inline constexpr std::size_t kDnsHeaderSize = 12;
// RFC 1035 4.2.2: a message over TCP has a 2-byte length first, so none is
// longer than this (over UDP neither: an IP packet's limit).
inline constexpr std::size_t kDnsMaxMessage = 65535;
// Header and the longest question: a 255-byte name (RFC 1035 2.3.4), QTYPE,
// QCLASS; a SERVFAIL answer is never longer.
inline constexpr std::size_t kDnsMaxQuestionEnd = kDnsHeaderSize + 255 + 4;

namespace dns_rcode {
inline constexpr std::uint8_t kServerFailure = 2;  // SERVFAIL, RFC 1035 4.1.1
}

struct DnsMessage {
  std::uint16_t id = 0;
  bool response = false;    // QR
  std::uint8_t opcode = 0;  // 0: standard query
  bool truncated = false;   // TC: the answer did not fit (RFC 1035 4.2.1)
  std::uint8_t rcode = 0;
  // Offset just past the question (header, name, QTYPE, QCLASS).
  std::size_t question_end = 0;
};

// The header and the one question, checked as above (QDCOUNT 1 and a
// well-formed name); nullopt for anything else, responses included.
std::optional<DnsMessage> parse_dns_message(Bytes message);
// A message the relay forwards: a standard query.
std::optional<DnsMessage> parse_dns_query(Bytes message);

std::uint16_t dns_id(Bytes message);  // message holds a header
void set_dns_id(MutableBytes message, std::uint16_t id);

// Whether both messages ask the same question: name (ASCII case
// insensitive, RFC 4343), type and class.
bool same_dns_question(Bytes first, const DnsMessage& first_parsed, Bytes second,
                       const DnsMessage& second_parsed);

// A SERVFAIL answer to `query` (RFC 1035 4.1.1): its ID, opcode, RD and
// question, QR and RA set, no records. Returns its size (query.question_end)
// or 0 when `out` is smaller.
std::size_t write_dns_server_failure(MutableBytes out, Bytes query, const DnsMessage& parsed);

// RFC 1035 4.2.1: the classic limit of a DNS message over UDP, which every
// asker takes whatever it announced (EDNS, RFC 6891, is not read here).
inline constexpr std::size_t kDnsClassicUdpMessage = 512;
// `answer` cut to its header and question, TC set and no records (RFC
// 2181 9: the asker then asks again over TCP). Returns its size
// (answer.question_end) or 0 when `out` is smaller.
std::size_t write_dns_truncated(MutableBytes out, Bytes answer, const DnsMessage& parsed);

}  // namespace rtether::wire
