// --management values and PWFILE; see management_option.hpp.
#include "cli/management_option.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "mgmt/line_reader.hpp"

namespace rtether::cli {
namespace {

// A password file larger than this is a mistake (a key, a log).
constexpr std::size_t kMaxPasswordFileSize = 4096;

constexpr const char* kUsage = "--management PATH [unix [PWFILE]] or IP PORT [PWFILE]";

}  // namespace

std::optional<ManagementOption> parse_management_option(const std::vector<std::string>& values,
                                                        std::string& error) {
  if (values.empty() || values.size() > 3) {
    error = fmt::format("{} values given; {}", values.size(), kUsage);
    return std::nullopt;
  }
  ManagementOption option;
  if (values.size() == 1 || values[1] == "unix") {
    if (values[0].empty()) {
      error = fmt::format("an empty PATH; {}", kUsage);
      return std::nullopt;
    }
    option.path = values[0];
  } else {
    option.kind = ManagementOption::Kind::Tcp;
    if (!wire::IpAddress::parse(values[0], option.address)) {
      error = fmt::format(
          "'{}' is neither an IP address before a PORT nor a PATH before 'unix'; {}", values[0],
          kUsage);
      return std::nullopt;
    }
    auto port = wire::parse_port(values[1]);
    if (!port) {
      error = fmt::format("'{}' is not a TCP port (1-65535); {}", values[1], kUsage);
      return std::nullopt;
    }
    option.port = *port;
  }
  if (values.size() == 3) {
    if (values[2].empty()) {
      error = fmt::format("an empty PWFILE; {}", kUsage);
      return std::nullopt;
    }
    option.password_file = values[2];
  }
  return option;
}

std::optional<std::string> password_from_file_text(std::string_view text, std::string& error) {
  std::string_view line = text.substr(0, text.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) {
    error = "its first line (the password) is empty";
    return std::nullopt;
  }
  // The client sends the password as one management line, which the line
  // reader would discard whole past this length.
  if (line.size() > mgmt::kMaxLineLength) {
    error = fmt::format("its first line is longer than a management line ({} bytes)",
                        mgmt::kMaxLineLength);
    return std::nullopt;
  }
  return std::string(line);
}

std::optional<std::string> read_management_password(const std::string& path, std::string& error) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    error = fmt::format("--management PWFILE {}: cannot read it: {}", path, std::strerror(errno));
    return std::nullopt;
  }
  std::string text(kMaxPasswordFileSize + 1, '\0');
  file.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(file.gcount()));
  if (text.size() > kMaxPasswordFileSize) {
    error = fmt::format("--management PWFILE {}: larger than {} bytes, not a password file", path,
                        kMaxPasswordFileSize);
    return std::nullopt;
  }
  std::string reason;
  auto password = password_from_file_text(text, reason);
  if (!password) error = fmt::format("--management PWFILE {}: {}", path, reason);
  return password;
}

}  // namespace rtether::cli
