// ExternalKey: a PEM private key file that answers >PK_SIGN requests
// (management-external-key), the way ics-openvpn answers them from a key
// in the Android keystore, with OpenSSL's libcrypto (EVP_PKEY). Each
// algorithm OpenVPN asks for (doc/management-notes.txt, "COMMAND --
// pk-sig"; xkey_helper.c):
//   RSA_PKCS1_PADDING      the data is a DigestInfo (or MD5-SHA1): an RSA
//                          private-key operation with PKCS#1 v1.5 type 1
//                          padding (RFC 8017 9.2, as RSA_private_encrypt);
//   RSA_NO_PADDING         the data is already padded: the raw operation;
//   RSA_PKCS1_PSS_PADDING  the data is the hash: RSASSA-PSS (RFC 8017 8.1)
//                          with hashalg's hash and MGF1, saltlen "digest"
//                          (the hash's size) or "max";
//   ECDSA                  the data is the hash: a DER ECDSA-Sig-Value;
//   ED25519 / ED448        the data is the message (RFC 8032).
// With data=message the hash named by hashalg is computed first.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mgmt/ui_queries.hpp"

struct evp_pkey_st;

namespace rtether::daemon {

class ExternalKey {
 public:
  // Reads the PEM file (an encrypted one with `passphrase`); throws
  // std::runtime_error with OpenSSL's reason if it cannot.
  ExternalKey(const std::string& path, const std::optional<std::string>& passphrase);
  ~ExternalKey();
  ExternalKey(const ExternalKey&) = delete;
  ExternalKey& operator=(const ExternalKey&) = delete;

  // nullopt with the reason in `error`: an algorithm for another key type,
  // an unknown hash, a refused operation.
  std::optional<std::vector<std::uint8_t>> sign(const mgmt::SignRequest& request,
                                                std::string& error) const;

  std::string type() const;  // "RSA 2048", "EC", "ED25519", ...

 private:
  evp_pkey_st* key_;
};

}  // namespace rtether::daemon
