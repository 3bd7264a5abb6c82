// The client's --management values, as OpenVPN's --management:
//   PATH [unix [PWFILE]]   a UNIX socket the UI (e.g. `rtether vpnservice`)
//                          connects to, or listens on with --management-client
//   IP PORT [PWFILE]       a TCP port for OpenVPN's monitoring tools; the tun
//                          is then set up in-process, as with no --management
// PWFILE's first line is the password every connection must send first
// (mgmt/management_core.hpp). Parsing is pure (fuzz/option_values_fuzz.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wire/ip_address.hpp"

namespace rtether::cli {

struct ManagementOption {
  enum class Kind { Unix, Tcp };
  Kind kind = Kind::Unix;
  std::string path;          // Unix
  wire::IpAddress address;   // Tcp
  std::uint16_t port = 0;    // Tcp
  std::string password_file;  // empty: no password
};

// One to three values; nullopt with a one-line reason otherwise.
std::optional<ManagementOption> parse_management_option(const std::vector<std::string>& values,
                                                        std::string& error);

// The password in PWFILE's contents: its first line, without "\r\n" or
// "\n" (OpenVPN's get_user_pass reads one line). Empty, or too long to be
// sent as one management line, is an error.
std::optional<std::string> password_from_file_text(std::string_view text, std::string& error);

// Reads PWFILE (at most a few KiB) and takes its password; errors name it.
std::optional<std::string> read_management_password(const std::string& path, std::string& error);

}  // namespace rtether::cli
