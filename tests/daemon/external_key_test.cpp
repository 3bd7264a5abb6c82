// ExternalKey signs each algorithm OpenVPN asks for, and the signature
// verifies with the key's public half (OpenSSL's EVP verify); keys are made
// fresh by the test and written as PEM files, as --external-key reads them.
#include "daemon/external_key.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

namespace rtether::daemon {
namespace {

using Kind = mgmt::SignatureAlgorithm::Kind;
using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

// SHA-256's DigestInfo header (RFC 8017 9.2, note 1).
const std::vector<std::uint8_t> kSha256DigestInfo = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                                     0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                                     0x01, 0x05, 0x00, 0x04, 0x20};

class PemFile {
 public:
  explicit PemFile(EVP_PKEY* key, const char* passphrase = nullptr) {
    char name[] = "/tmp/rtether-external-key-XXXXXX";
    int fd = mkstemp(name);
    path_ = name;
    FILE* file = fdopen(fd, "w");
    const EVP_CIPHER* cipher = passphrase ? EVP_aes_256_cbc() : nullptr;
    PEM_write_PrivateKey(file, key, cipher, nullptr, 0, nullptr, const_cast<char*>(passphrase));
    std::fclose(file);
  }
  ~PemFile() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::vector<std::uint8_t> sha256(const std::vector<std::uint8_t>& message) {
  std::vector<std::uint8_t> digest(32);
  unsigned int length = 0;
  EVP_Digest(message.data(), message.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return digest;
}

mgmt::SignRequest request(Kind kind, std::vector<std::uint8_t> data, std::string hash = "",
                          bool message = false) {
  mgmt::SignRequest request;
  request.data = std::move(data);
  request.algorithm.kind = kind;
  request.algorithm.name = "test";
  request.algorithm.hash = std::move(hash);
  request.algorithm.data_is_message = message;
  return request;
}

// Verifies a signature over a digest (or, with `md` and `message`, over the
// message) with the given padding.
bool verifies(EVP_PKEY* key, const std::vector<std::uint8_t>& signature,
              const std::vector<std::uint8_t>& data, int padding, const EVP_MD* md) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> context(
      EVP_PKEY_CTX_new(key, nullptr), &EVP_PKEY_CTX_free);
  if (EVP_PKEY_verify_init(context.get()) <= 0) return false;
  if (padding != 0 && EVP_PKEY_CTX_set_rsa_padding(context.get(), padding) <= 0) return false;
  if (md != nullptr && EVP_PKEY_CTX_set_signature_md(context.get(), md) <= 0) return false;
  return EVP_PKEY_verify(context.get(), signature.data(), signature.size(), data.data(),
                         data.size()) == 1;
}

const std::vector<std::uint8_t> kMessage = {'h', 'a', 'n', 'd', 's', 'h', 'a', 'k', 'e'};

TEST(ExternalKey, SignsRsaPkcs1PssAndUnpadded) {
  Key key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048}), &EVP_PKEY_free);
  PemFile pem(key.get());
  ExternalKey external(pem.path(), std::nullopt);
  EXPECT_EQ(external.type(), "RSA 2048");
  std::string error;
  auto digest = sha256(kMessage);
  auto info = kSha256DigestInfo;
  info.insert(info.end(), digest.begin(), digest.end());
  auto pkcs1 = external.sign(request(Kind::RsaPkcs1, info), error);
  ASSERT_TRUE(pkcs1) << error;
  EXPECT_TRUE(verifies(key.get(), *pkcs1, digest, RSA_PKCS1_PADDING, EVP_sha256()));
  auto pss = external.sign(request(Kind::RsaPss, digest, "SHA256"), error);
  ASSERT_TRUE(pss) << error;
  EXPECT_TRUE(verifies(key.get(), *pss, digest, RSA_PKCS1_PSS_PADDING, EVP_sha256()));
  auto pss_message = external.sign(request(Kind::RsaPss, kMessage, "SHA256", true), error);
  ASSERT_TRUE(pss_message) << error;
  EXPECT_TRUE(verifies(key.get(), *pss_message, digest, RSA_PKCS1_PSS_PADDING, EVP_sha256()));
  // Unpadded: a block of the modulus' size whose RSA result comes back as is.
  std::vector<std::uint8_t> block(256, 0x5a);
  block[0] = 0x00;
  auto raw = external.sign(request(Kind::RsaNone, block), error);
  ASSERT_TRUE(raw) << error;
  EXPECT_EQ(raw->size(), 256u);
  EXPECT_TRUE(verifies(key.get(), *raw, block, RSA_NO_PADDING, nullptr));
  EXPECT_FALSE(external.sign(request(Kind::Ecdsa, digest), error));
  EXPECT_NE(error.find("RSA"), std::string::npos);
  EXPECT_FALSE(external.sign(request(Kind::RsaPss, digest, "NOSUCHHASH"), error));
}

TEST(ExternalKey, SignsEcdsaOverADigestOrAMessage) {
  Key key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), &EVP_PKEY_free);
  PemFile pem(key.get(), "key pass");
  ExternalKey external(pem.path(), std::string("key pass"));
  std::string error;
  auto digest = sha256(kMessage);
  auto over_digest = external.sign(request(Kind::Ecdsa, digest), error);
  ASSERT_TRUE(over_digest) << error;
  EXPECT_TRUE(verifies(key.get(), *over_digest, digest, 0, nullptr));
  auto over_message = external.sign(request(Kind::Ecdsa, kMessage, "SHA256", true), error);
  ASSERT_TRUE(over_message) << error;
  EXPECT_TRUE(verifies(key.get(), *over_message, digest, 0, nullptr));
  EXPECT_FALSE(external.sign(request(Kind::RsaPss, digest, "SHA256"), error));
}

TEST(ExternalKey, SignsEd25519OverTheMessage) {
  Key key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), &EVP_PKEY_free);
  PemFile pem(key.get());
  ExternalKey external(pem.path(), std::nullopt);
  std::string error;
  auto signature = external.sign(request(Kind::EdDsa, kMessage, "", true), error);
  ASSERT_TRUE(signature) << error;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                  &EVP_MD_CTX_free);
  ASSERT_EQ(EVP_DigestVerifyInit(context.get(), nullptr, nullptr, nullptr, key.get()), 1);
  EXPECT_EQ(EVP_DigestVerify(context.get(), signature->data(), signature->size(), kMessage.data(),
                             kMessage.size()),
            1);
}

TEST(ExternalKey, RefusesWhatIsNotAKeyOrAWrongPassphrase) {
  Key key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), &EVP_PKEY_free);
  PemFile pem(key.get(), "right");
  EXPECT_THROW(ExternalKey(pem.path(), std::string("wrong")), std::runtime_error);
  EXPECT_THROW(ExternalKey("/nonexistent/key.pem", std::nullopt), std::runtime_error);
  EXPECT_THROW(ExternalKey("/etc/hostname", std::nullopt), std::runtime_error);
}

}  // namespace
}  // namespace rtether::daemon
