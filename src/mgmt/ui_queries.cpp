// Parsing the daemon's >PROXY, >PASSWORD and >PK_SIGN; see ui_queries.hpp.
#include "mgmt/ui_queries.hpp"

#include <charconv>

#include "wire/base64.hpp"

namespace rtether::mgmt {
namespace {

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    auto end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// "'TYPE'" at the start of `text`: the type, and `text` moved past it.
std::optional<std::string> quoted_type(std::string_view& text) {
  if (text.empty() || text[0] != '\'') return std::nullopt;
  auto end = text.find('\'', 1);
  if (end == std::string_view::npos || end == 1) return std::nullopt;
  std::string type(text.substr(1, end - 1));
  text.remove_prefix(end + 1);
  return type;
}

// The base64 pk-sig lines: OpenVPN reads lines of up to 1024 bytes; 64
// characters, as PEM writes them, keeps every line short.
constexpr std::size_t kPkSigLineLength = 64;

}  // namespace

std::optional<ProxyQuery> parse_proxy_query(std::string_view body) {
  auto parts = split(body, ',');
  if (parts.size() < 3) return std::nullopt;
  ProxyQuery query;
  auto [end, error] =
      std::from_chars(parts[0].data(), parts[0].data() + parts[0].size(), query.remote_index);
  if (parts[0].empty() || error != std::errc() || end != parts[0].data() + parts[0].size()) {
    return std::nullopt;
  }
  if (parts[1] != "UDP" && parts[1] != "TCP") return std::nullopt;
  query.udp = parts[1] == "UDP";
  // The host is the rest (an IPv6 literal has no commas, but be generous).
  query.host = std::string(body.substr(parts[0].size() + parts[1].size() + 2));
  return query;
}

std::optional<PasswordQuery> parse_password_query(std::string_view body) {
  PasswordQuery query;
  if (starts_with(body, "Need ")) {
    body.remove_prefix(5);
    auto type = quoted_type(body);
    if (!type) return std::nullopt;
    query.type = *type;
    if (!starts_with(body, " ")) return std::nullopt;
    body.remove_prefix(1);
    auto word_end = body.find(' ');
    std::string_view word = body.substr(0, word_end);
    if (word == "username/password") {
      query.wants_username = query.wants_password = true;
    } else if (word == "password") {
      query.wants_password = true;
    } else if (word == "username") {
      query.wants_username = true;
    } else {
      return std::nullopt;
    }
    if (word_end != std::string_view::npos) query.extra = std::string(body.substr(word_end + 1));
    return query;
  }
  if (starts_with(body, "Verification Failed: ")) {
    body.remove_prefix(21);
    auto type = quoted_type(body);
    if (!type) return std::nullopt;
    query.kind = PasswordQuery::Kind::VerificationFailed;
    query.type = *type;
    if (starts_with(body, " ")) body.remove_prefix(1);
    query.extra = std::string(body);
    return query;
  }
  return std::nullopt;
}

std::optional<SignRequest> parse_sign_request(std::string_view body, std::string& error) {
  auto parts = split(body, ',');
  SignRequest request;
  auto data = wire::base64_decode(parts[0]);
  if (!data || data->empty()) {
    error = "the data to sign is not base64";
    return std::nullopt;
  }
  request.data = std::move(*data);
  using Kind = SignatureAlgorithm::Kind;
  auto& algorithm = request.algorithm;
  algorithm.name = parts.size() > 1 ? std::string(parts[1]) : "RSA_PKCS1_PADDING";
  if (algorithm.name == "RSA_PKCS1_PADDING") {
    algorithm.kind = Kind::RsaPkcs1;
  } else if (algorithm.name == "RSA_NO_PADDING") {
    algorithm.kind = Kind::RsaNone;
  } else if (algorithm.name == "RSA_PKCS1_PSS_PADDING") {
    algorithm.kind = Kind::RsaPss;
  } else if (algorithm.name == "ECDSA") {
    algorithm.kind = Kind::Ecdsa;
  } else if (algorithm.name == "ED25519" || algorithm.name == "ED448") {
    algorithm.kind = Kind::EdDsa;
  } else {
    error = "unknown signature algorithm '" + algorithm.name + "'";
    return std::nullopt;
  }
  for (std::size_t i = 2; i < parts.size(); ++i) {
    auto equals = parts[i].find('=');
    std::string_view key = parts[i].substr(0, equals);
    std::string_view value =
        equals == std::string_view::npos ? std::string_view() : parts[i].substr(equals + 1);
    if (key == "hashalg" && !value.empty()) {
      algorithm.hash = std::string(value);
    } else if (key == "saltlen" && !value.empty()) {
      algorithm.salt_length = std::string(value);
    } else if (key == "data" && value == "message") {
      algorithm.data_is_message = true;
    } else {
      error = "unknown signature parameter '" + std::string(parts[i]) + "'";
      return std::nullopt;
    }
  }
  if (algorithm.kind == Kind::RsaPss && algorithm.hash.empty()) {
    error = "RSA_PKCS1_PSS_PADDING without hashalg";
    return std::nullopt;
  }
  if (algorithm.data_is_message && algorithm.kind != Kind::EdDsa && algorithm.hash.empty()) {
    error = "data=message without hashalg";
    return std::nullopt;
  }
  if (algorithm.kind == Kind::RsaNone && algorithm.data_is_message) {
    error = "RSA_NO_PADDING over a message";
    return std::nullopt;
  }
  return request;
}

std::vector<std::string> pk_sig_lines(const std::vector<std::uint8_t>& signature) {
  std::vector<std::string> lines{"pk-sig"};
  std::string text = wire::base64_encode(signature);
  for (std::size_t i = 0; i < text.size(); i += kPkSigLineLength) {
    lines.push_back(text.substr(i, kPkSigLineLength));
  }
  lines.push_back("END");
  return lines;
}

}  // namespace rtether::mgmt
