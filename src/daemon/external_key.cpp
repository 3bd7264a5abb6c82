// ExternalKey; see external_key.hpp.
#include "daemon/external_key.hpp"

#include <fmt/core.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

namespace rtether::daemon {
namespace {

using Kind = mgmt::SignatureAlgorithm::Kind;

// The last OpenSSL error as text (the queue is cleared).
std::string openssl_error(const std::string& what) {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return what;
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return what + ": " + text;
}

struct ContextFree {
  void operator()(EVP_PKEY_CTX* context) const { EVP_PKEY_CTX_free(context); }
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
  void operator()(EVP_MD* md) const { EVP_MD_free(md); }
};

int passphrase_callback(char* buffer, int size, int, void* user) {
  const auto* passphrase = static_cast<const std::string*>(user);
  if (passphrase == nullptr || passphrase->size() > static_cast<std::size_t>(size)) return -1;
  passphrase->copy(buffer, passphrase->size());
  return static_cast<int>(passphrase->size());
}

// Padding and PSS salt on a signing context (EVP_PKEY_CTX of an RSA key).
bool set_rsa_options(EVP_PKEY_CTX* context, const mgmt::SignatureAlgorithm& algorithm,
                     std::string& error) {
  int padding = algorithm.kind == Kind::RsaPss    ? RSA_PKCS1_PSS_PADDING
                : algorithm.kind == Kind::RsaNone ? RSA_NO_PADDING
                                                  : RSA_PKCS1_PADDING;
  if (EVP_PKEY_CTX_set_rsa_padding(context, padding) <= 0) {
    error = openssl_error("cannot set the RSA padding");
    return false;
  }
  if (algorithm.kind != Kind::RsaPss) return true;
  int salt = RSA_PSS_SALTLEN_DIGEST;
  if (algorithm.salt_length == "max") {
    salt = RSA_PSS_SALTLEN_MAX;
  } else if (!algorithm.salt_length.empty() && algorithm.salt_length != "digest") {
    try {
      std::size_t used = 0;
      salt = std::stoi(algorithm.salt_length, &used);
      if (used != algorithm.salt_length.size() || salt < 0) throw std::invalid_argument("");
    } catch (const std::exception&) {
      error = "PSS saltlen '" + algorithm.salt_length + "' is not digest, max or a length";
      return false;
    }
  }
  if (EVP_PKEY_CTX_set_rsa_pss_saltlen(context, salt) <= 0) {
    error = openssl_error("cannot set the PSS salt length");
    return false;
  }
  return true;
}

bool kind_fits_key(Kind kind, int key_type) {
  switch (kind) {
    case Kind::RsaPkcs1:
    case Kind::RsaNone:
    case Kind::RsaPss:
      return key_type == EVP_PKEY_RSA || key_type == EVP_PKEY_RSA_PSS;
    case Kind::Ecdsa:
      return key_type == EVP_PKEY_EC;
    case Kind::EdDsa:
      return key_type == EVP_PKEY_ED25519 || key_type == EVP_PKEY_ED448;
  }
  return false;
}

}  // namespace

ExternalKey::ExternalKey(const std::string& path, const std::optional<std::string>& passphrase)
    : key_(nullptr) {
  std::unique_ptr<BIO, decltype(&BIO_free)> file(BIO_new_file(path.c_str(), "r"), &BIO_free);
  if (!file) throw std::runtime_error(openssl_error("--external-key " + path + ": cannot read it"));
  const std::string* user = passphrase ? &*passphrase : nullptr;
  key_ = PEM_read_bio_PrivateKey(file.get(), nullptr, passphrase_callback,
                                 const_cast<std::string*>(user));
  if (key_ == nullptr) {
    throw std::runtime_error(
        openssl_error("--external-key " + path + ": not a PEM private key" +
                      (passphrase ? " (or the --askpass password is wrong)" : "")));
  }
}

ExternalKey::~ExternalKey() { EVP_PKEY_free(key_); }

std::string ExternalKey::type() const {
  int id = EVP_PKEY_get_base_id(key_);
  std::string name = id == EVP_PKEY_RSA       ? "RSA"
                     : id == EVP_PKEY_EC      ? "EC"
                     : id == EVP_PKEY_ED25519 ? "ED25519"
                     : id == EVP_PKEY_ED448   ? "ED448"
                                              : OBJ_nid2sn(id);
  return fmt::format("{} {}", name, EVP_PKEY_get_bits(key_));
}

std::optional<std::vector<std::uint8_t>> ExternalKey::sign(const mgmt::SignRequest& request,
                                                           std::string& error) const {
  const auto& algorithm = request.algorithm;
  if (!kind_fits_key(algorithm.kind, EVP_PKEY_get_base_id(key_))) {
    error = fmt::format("{} asked of a {} key", algorithm.name, type());
    return std::nullopt;
  }
  std::unique_ptr<EVP_MD, ContextFree> md;
  if (!algorithm.hash.empty()) {
    md.reset(EVP_MD_fetch(nullptr, algorithm.hash.c_str(), nullptr));
    if (!md) {
      error = "unknown hash '" + algorithm.hash + "'";
      return std::nullopt;
    }
  }
  std::vector<std::uint8_t> signature(static_cast<std::size_t>(EVP_PKEY_get_size(key_)));
  std::size_t length = signature.size();
  if (algorithm.data_is_message || algorithm.kind == Kind::EdDsa) {
    // The whole message: EVP_DigestSign hashes it (EdDSA: no separate hash).
    std::unique_ptr<EVP_MD_CTX, ContextFree> context(EVP_MD_CTX_new());
    EVP_PKEY_CTX* key_context = nullptr;
    const EVP_MD* hash = algorithm.kind == Kind::EdDsa ? nullptr : md.get();
    if (!context || EVP_DigestSignInit(context.get(), &key_context, hash, nullptr, key_) <= 0) {
      error = openssl_error("cannot start signing");
      return std::nullopt;
    }
    if (algorithm.kind != Kind::Ecdsa && algorithm.kind != Kind::EdDsa &&
        !set_rsa_options(key_context, algorithm, error)) {
      return std::nullopt;
    }
    if (EVP_DigestSign(context.get(), signature.data(), &length, request.data.data(),
                       request.data.size()) <= 0) {
      error = openssl_error(algorithm.name + " signing failed");
      return std::nullopt;
    }
  } else {
    // A digest (or, for RSA_PKCS1_PADDING, a DigestInfo; RSA_NO_PADDING:
    // a padded block): EVP_PKEY_sign signs it as given.
    std::unique_ptr<EVP_PKEY_CTX, ContextFree> context(EVP_PKEY_CTX_new(key_, nullptr));
    if (!context || EVP_PKEY_sign_init(context.get()) <= 0) {
      error = openssl_error("cannot start signing");
      return std::nullopt;
    }
    if (algorithm.kind != Kind::Ecdsa && !set_rsa_options(context.get(), algorithm, error)) {
      return std::nullopt;
    }
    // PSS needs the hash the digest was made with (its DigestInfo-free
    // length must match); PKCS#1 and no padding sign the bytes as they are.
    if (algorithm.kind == Kind::RsaPss &&
        EVP_PKEY_CTX_set_signature_md(context.get(), md.get()) <= 0) {
      error = openssl_error("cannot use " + algorithm.hash + " for PSS");
      return std::nullopt;
    }
    if (EVP_PKEY_sign(context.get(), signature.data(), &length, request.data.data(),
                      request.data.size()) <= 0) {
      error = openssl_error(algorithm.name + " signing failed");
      return std::nullopt;
    }
  }
  signature.resize(length);
  return signature;
}

}  // namespace rtether::daemon
