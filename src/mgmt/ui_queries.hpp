// The daemon's queries beside NEED-OK, as the UI parses them: >PROXY
// (management-query-proxy), >PASSWORD (management-query-passwords: the
// auth-user-pass credentials, a private key's password, an HTTP proxy's
// credentials) and >PK_SIGN (management-external-key), in the layouts of
// OpenVPN's init.c, manage.c and xkey_helper.c and of its
// doc/management-notes.txt; and the lines that answer them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rtether::mgmt {

// ">PROXY:N,PROTO,HOST": the N-th --remote (from 1), "UDP" or "TCP".
struct ProxyQuery {
  int remote_index = 0;
  bool udp = false;
  std::string host;
};
std::optional<ProxyQuery> parse_proxy_query(std::string_view body);

// ">PASSWORD:Need 'TYPE' username/password", "... password", "... username"
// (anything after, a static challenge, is kept as `extra`), or
// ">PASSWORD:Verification Failed: 'TYPE'" with an optional reason.
struct PasswordQuery {
  enum class Kind { Need, VerificationFailed };
  Kind kind = Kind::Need;
  std::string type;  // "Auth", "Private Key", "HTTP Proxy", ...
  bool wants_username = false;
  bool wants_password = false;
  std::string extra;
};
std::optional<PasswordQuery> parse_password_query(std::string_view body);

// The signature a >PK_SIGN asks for (xkey_helper.c's alg_str): a name,
// then comma-separated parameters.
struct SignatureAlgorithm {
  enum class Kind {
    RsaPkcs1,  // RSA_PKCS1_PADDING: the data is a DigestInfo (or MD5-SHA1)
    RsaNone,   // RSA_NO_PADDING: the data is already padded to the modulus
    RsaPss,    // RSA_PKCS1_PSS_PADDING,hashalg=H,saltlen=digest|max
    Ecdsa,     // ECDSA: a DER ECDSA-Sig-Value over the digest
    EdDsa,     // ED25519 / ED448: over the message itself
  };
  Kind kind = Kind::RsaPkcs1;
  std::string name;              // as sent: "RSA_PKCS1_PSS_PADDING", "ED25519", ...
  std::string hash;              // hashalg=, e.g. "SHA256"; empty: not given
  std::string salt_length;       // saltlen=: "digest", "max" or a number; empty: not given
  bool data_is_message = false;  // data=message: hash it with `hash` first
};

// ">PK_SIGN:BASE64[,ALG...]": without an algorithm (a version 2 UI) the
// request is RSA_PKCS1_PADDING. nullopt: bad base64, an unknown algorithm
// or parameter, PSS without its hash, data=message without a hash where one
// is needed.
struct SignRequest {
  std::vector<std::uint8_t> data;
  SignatureAlgorithm algorithm;
};
std::optional<SignRequest> parse_sign_request(std::string_view body, std::string& error);

// "pk-sig", the signature in base64 lines of 64 characters, "END"
// (without newlines).
std::vector<std::string> pk_sig_lines(const std::vector<std::uint8_t>& signature);

}  // namespace rtether::mgmt
