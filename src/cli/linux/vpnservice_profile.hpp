// VpnServiceProfile: what `rtether vpnservice` answers the daemon's
// >PROXY, >PASSWORD and >PK_SIGN with, the stand-in for an ics-openvpn VPN
// profile and its keystore: --proxy, --auth-user-pass FILE (OpenVPN's
// two-line file: username, password), --askpass FILE (one line: the
// private key's password), --external-key FILE (a PEM private key); for
// credentials no file gives, a prompt on the terminal (the password not
// echoed), which a signal cuts short.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "daemon/external_key.hpp"
#include "mgmt/ui_profile.hpp"

namespace rtether::cli {

struct VpnServiceProfileOptions {
  std::string proxy;           // empty: none
  std::string auth_user_pass;  // file paths; empty: none
  std::string askpass;
  std::string external_key;
};

class VpnServiceProfile final : public mgmt::UiProfile {
 public:
  // Reads the files at once; throws std::runtime_error with the reason
  // (the file, the line) if one is unusable. `interrupt_fd` (a signalfd)
  // readable ends a prompt; -1: prompts are not offered.
  VpnServiceProfile(const VpnServiceProfileOptions& options, int interrupt_fd);

  std::optional<mgmt::ProxySetting> proxy() const override { return proxy_; }
  std::optional<mgmt::UiCredentials> credentials(const mgmt::PasswordQuery& query,
                                                 std::string& error) override;
  void credentials_refused(const std::string& type) override;
  std::optional<std::vector<std::uint8_t>> sign(const mgmt::SignRequest& request,
                                                std::string& error) override;

 private:
  std::optional<mgmt::UiCredentials> prompt(const mgmt::PasswordQuery& query, std::string& error);

  std::optional<mgmt::ProxySetting> proxy_;
  int interrupt_fd_;
  // By query type: "Auth" from --auth-user-pass, "Private Key" from
  // --askpass; typed ones are added as they come.
  std::map<std::string, mgmt::UiCredentials> from_files_;
  std::map<std::string, mgmt::UiCredentials> typed_;
  std::set<std::string> refused_;
  std::unique_ptr<daemon::ExternalKey> key_;
};

}  // namespace rtether::cli
