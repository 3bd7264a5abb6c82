// UiProfile: what a UI answers the daemon's non-tun queries from, as
// ics-openvpn answers them from its VPN profile and the Android keystore:
// the proxy for >PROXY, credentials for >PASSWORD, signatures for
// >PK_SIGN. UiSession asks it; without one every >PROXY is `proxy NONE`
// and a >PASSWORD or >PK_SIGN has no answer (the UI then stops the daemon).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mgmt/ui_queries.hpp"

namespace rtether::mgmt {

// A proxy the daemon connects through: `proxy HTTP HOST PORT` or
// `proxy SOCKS HOST PORT` (management-notes.txt, "COMMAND -- proxy").
struct ProxySetting {
  enum class Kind { Http, Socks };
  Kind kind = Kind::Http;
  std::string host;
  std::string port;
  friend bool operator==(const ProxySetting&, const ProxySetting&) = default;
};

// "http://HOST:PORT" or "socks://HOST:PORT" ("socks5://" too; an IPv6 HOST
// in brackets). nullopt with the reason in `error`.
std::optional<ProxySetting> parse_proxy_setting(std::string_view text, std::string& error);

struct UiCredentials {
  std::string username;
  std::string password;
};

class UiProfile {
 public:
  virtual ~UiProfile() = default;
  // nullopt: connect directly (`proxy NONE`).
  virtual std::optional<ProxySetting> proxy() const = 0;
  // The answer to a >PASSWORD of this type (`query.wants_username`,
  // `wants_password` say which parts are used); nullopt: none to give,
  // with the reason in `error`.
  virtual std::optional<UiCredentials> credentials(const PasswordQuery& query,
                                                   std::string& error) = 0;
  // The daemon refused the credentials of this type: do not give the same
  // ones again unasked (ones typed at a prompt are forgotten).
  virtual void credentials_refused(const std::string& type) = 0;
  // The signature for a >PK_SIGN; nullopt with the reason in `error`.
  virtual std::optional<std::vector<std::uint8_t>> sign(const SignRequest& request,
                                                        std::string& error) = 0;
};

}  // namespace rtether::mgmt
