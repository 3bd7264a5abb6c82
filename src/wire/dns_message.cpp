// DnsMessage: see dns_message.hpp.
#include "wire/dns_message.hpp"

#include <algorithm>
#include <cstring>

namespace rtether::wire {

namespace {
// Header fields (RFC 1035 4.1.1): ID, flags, four section counts.
constexpr std::size_t kIdOffset = 0;
constexpr std::size_t kFlagsOffset = 2;
constexpr std::size_t kQuestionCountOffset = 4;
constexpr std::size_t kAnswerCountOffset = 6;  // then NSCOUNT and ARCOUNT

constexpr std::uint16_t kFlagResponse = 0x8000;  // QR
constexpr std::uint16_t kOpcodeShift = 11;
constexpr std::uint16_t kOpcodeMask = 0xF;
constexpr std::uint16_t kFlagTruncated = 0x0200;           // TC
constexpr std::uint16_t kFlagRecursionDesired = 0x0100;    // RD
constexpr std::uint16_t kFlagRecursionAvailable = 0x0080;  // RA
constexpr std::uint16_t kRcodeMask = 0xF;

constexpr std::size_t kMaxLabel = 63;          // RFC 1035 2.3.4
constexpr std::size_t kMaxName = 255;          // wire length, length bytes included
constexpr std::uint8_t kLabelTypeMask = 0xC0;  // 0x00: a label; others: pointer or reserved
constexpr std::size_t kTypeAndClass = 4;

// Offset just past the name starting at `at`, or 0 when it is malformed.
std::size_t skip_name(Bytes message, std::size_t at) {
  const std::size_t start = at;
  while (at < message.size()) {
    const std::uint8_t length = message[at];
    if ((length & kLabelTypeMask) != 0) return 0;
    ++at;
    if (length == 0) return at - start <= kMaxName ? at : 0;
    if (length > kMaxLabel) return 0;
    at += length;
    if (at - start > kMaxName) return 0;
  }
  return 0;
}

std::uint8_t ascii_lower(std::uint8_t c) {
  return c >= 'A' && c <= 'Z' ? static_cast<std::uint8_t>(c - 'A' + 'a') : c;
}
}  // namespace

std::optional<DnsMessage> parse_dns_message(Bytes message) {
  if (message.size() < kDnsHeaderSize) return std::nullopt;
  if (load_be16(message.data() + kQuestionCountOffset) != 1) return std::nullopt;
  const std::size_t name_end = skip_name(message, kDnsHeaderSize);
  if (name_end == 0 || message.size() - name_end < kTypeAndClass) return std::nullopt;
  const std::uint16_t flags = load_be16(message.data() + kFlagsOffset);
  DnsMessage parsed;
  parsed.id = load_be16(message.data() + kIdOffset);
  parsed.response = (flags & kFlagResponse) != 0;
  parsed.opcode = static_cast<std::uint8_t>((flags >> kOpcodeShift) & kOpcodeMask);
  parsed.truncated = (flags & kFlagTruncated) != 0;
  parsed.rcode = static_cast<std::uint8_t>(flags & kRcodeMask);
  parsed.question_end = name_end + kTypeAndClass;
  return parsed;
}

std::optional<DnsMessage> parse_dns_query(Bytes message) {
  auto parsed = parse_dns_message(message);
  if (!parsed || parsed->response || parsed->opcode != 0) return std::nullopt;
  return parsed;
}

std::uint16_t dns_id(Bytes message) { return load_be16(message.data() + kIdOffset); }

void set_dns_id(MutableBytes message, std::uint16_t id) {
  store_be16(message.data() + kIdOffset, id);
}

bool same_dns_question(Bytes first, const DnsMessage& first_parsed, Bytes second,
                       const DnsMessage& second_parsed) {
  const std::size_t length = first_parsed.question_end - kDnsHeaderSize;
  if (second_parsed.question_end - kDnsHeaderSize != length) return false;
  // Names compare case-insensitively; the length bytes are below 64 and
  // QTYPE/QCLASS compare the same way only when equal, so lowering every
  // byte of the name is exact and the last four are compared as they are.
  const std::size_t name_length = length - kTypeAndClass;
  const auto* a = first.data() + kDnsHeaderSize;
  const auto* b = second.data() + kDnsHeaderSize;
  for (std::size_t i = 0; i < name_length; ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return std::memcmp(a + name_length, b + name_length, kTypeAndClass) == 0;
}

std::size_t write_dns_server_failure(MutableBytes out, Bytes query, const DnsMessage& parsed) {
  const std::size_t size = parsed.question_end;
  if (out.size() < size || query.size() < size) return 0;
  std::copy_n(query.data(), size, out.data());
  const std::uint16_t query_flags = load_be16(query.data() + kFlagsOffset);
  const auto flags = static_cast<std::uint16_t>(
      kFlagResponse | (query_flags & (kOpcodeMask << kOpcodeShift)) |
      (query_flags & kFlagRecursionDesired) | kFlagRecursionAvailable | dns_rcode::kServerFailure);
  store_be16(out.data() + kFlagsOffset, flags);
  std::fill_n(out.data() + kAnswerCountOffset, kDnsHeaderSize - kAnswerCountOffset, 0);
  return size;
}

std::size_t write_dns_truncated(MutableBytes out, Bytes answer, const DnsMessage& parsed) {
  const std::size_t size = parsed.question_end;
  if (out.size() < size || answer.size() < size) return 0;
  std::copy_n(answer.data(), size, out.data());
  const std::uint16_t flags = load_be16(answer.data() + kFlagsOffset);
  store_be16(out.data() + kFlagsOffset, static_cast<std::uint16_t>(flags | kFlagTruncated));
  std::fill_n(out.data() + kAnswerCountOffset, kDnsHeaderSize - kAnswerCountOffset, 0);
  return size;
}

}  // namespace rtether::wire
