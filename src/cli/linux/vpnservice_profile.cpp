// VpnServiceProfile; see vpnservice_profile.hpp.
#include "cli/linux/vpnservice_profile.hpp"

#include <fmt/core.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "io/log.hpp"

namespace rtether::cli {
namespace {

// A line typed at the prompt; longer ones are refused (OpenVPN's own
// limit for a password is 4096 bytes with management, 128 on its console).
constexpr std::size_t kMaxTypedLength = 4096;

std::vector<std::string> read_lines(const std::string& option, const std::string& path,
                                    std::size_t wanted) {
  std::ifstream file(path);
  if (!file) {
    throw std::runtime_error(
        fmt::format("{} {}: cannot read it: {}", option, path, std::strerror(errno)));
  }
  std::vector<std::string> lines;
  std::string line;
  while (lines.size() < wanted && std::getline(file, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  if (lines.size() < wanted || lines[0].empty()) {
    throw std::runtime_error(fmt::format(
        "{} {}: {} expected", option, path,
        wanted == 2 ? "two lines (username, then password)" : "one line (the password)"));
  }
  return lines;
}

// One line from the terminal, with or without echo. False when the
// interrupt fd became readable, stdin ended, or the line is too long.
bool read_terminal_line(bool echo, int interrupt_fd, std::string& line, std::string& error) {
  termios saved{};
  bool restore = false;
  if (!echo && tcgetattr(STDIN_FILENO, &saved) == 0) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    restore = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
  }
  line.clear();
  bool done = false;
  bool ok = false;
  while (!done) {
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {interrupt_fd, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      error = std::string("poll: ") + std::strerror(errno);
      break;
    }
    if (fds[1].revents) {
      error = "interrupted";
      break;
    }
    char c;
    ssize_t got = read(STDIN_FILENO, &c, 1);
    if (got <= 0) {
      error = "the terminal closed";
      break;
    }
    if (c == '\n') {
      done = ok = true;
    } else if (line.size() >= kMaxTypedLength) {
      error = "longer than " + std::to_string(kMaxTypedLength) + " bytes";
      done = true;
    } else if (c != '\r') {
      line.push_back(c);
    }
  }
  if (restore) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::fputs("\n", stderr);  // the Enter that was not echoed
  }
  return ok;
}

}  // namespace

VpnServiceProfile::VpnServiceProfile(const VpnServiceProfileOptions& options, int interrupt_fd)
    : interrupt_fd_(interrupt_fd) {
  if (!options.proxy.empty()) {
    std::string error;
    proxy_ = mgmt::parse_proxy_setting(options.proxy, error);
    if (!proxy_) throw std::runtime_error("--proxy: " + error);
  }
  if (!options.auth_user_pass.empty()) {
    auto lines = read_lines("--auth-user-pass", options.auth_user_pass, 2);
    from_files_["Auth"] = {lines[0], lines[1]};
  }
  std::optional<std::string> passphrase;
  if (!options.askpass.empty()) {
    passphrase = read_lines("--askpass", options.askpass, 1)[0];
    from_files_["Private Key"] = {"", *passphrase};
  }
  if (!options.external_key.empty()) {
    key_ = std::make_unique<daemon::ExternalKey>(options.external_key, passphrase);
    log::info("external key: {} ({})", options.external_key, key_->type());
  }
}

std::optional<mgmt::UiCredentials> VpnServiceProfile::credentials(const mgmt::PasswordQuery& query,
                                                                  std::string& error) {
  if (auto typed = typed_.find(query.type); typed != typed_.end()) return typed->second;
  auto file = from_files_.find(query.type);
  if (file != from_files_.end() && !refused_.contains(query.type)) return file->second;
  auto typed = prompt(query, error);
  if (typed) typed_[query.type] = *typed;
  return typed;
}

void VpnServiceProfile::credentials_refused(const std::string& type) {
  typed_.erase(type);
  refused_.insert(type);
}

std::optional<mgmt::UiCredentials> VpnServiceProfile::prompt(const mgmt::PasswordQuery& query,
                                                             std::string& error) {
  if (interrupt_fd_ < 0 || isatty(STDIN_FILENO) != 1) {
    error = query.type == "Auth" ? "give --auth-user-pass FILE, or run on a terminal to type them"
            : query.type == "Private Key" ? "give --askpass FILE, or run on a terminal to type it"
                                          : "run on a terminal to type them";
    if (refused_.contains(query.type)) error = "the daemon refused them; " + error;
    return std::nullopt;
  }
  mgmt::UiCredentials typed;
  if (query.wants_username) {
    std::fprintf(stderr, "Enter %s Username: ", query.type.c_str());
    std::fflush(stderr);
    if (!read_terminal_line(true, interrupt_fd_, typed.username, error)) return std::nullopt;
  }
  if (query.wants_password) {
    std::fprintf(stderr, "Enter %s Password: ", query.type.c_str());
    std::fflush(stderr);
    if (!read_terminal_line(false, interrupt_fd_, typed.password, error)) return std::nullopt;
  }
  return typed;
}

std::optional<std::vector<std::uint8_t>> VpnServiceProfile::sign(const mgmt::SignRequest& request,
                                                                 std::string& error) {
  if (!key_) {
    error =
        "give --external-key FILE (the PEM private key of the daemon's "
        "certificate)";
    return std::nullopt;
  }
  return key_->sign(request, error);
}

}  // namespace rtether::cli
