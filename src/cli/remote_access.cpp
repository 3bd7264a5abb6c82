// Remote access checks; see remote_access.hpp.
#include "cli/remote_access.hpp"

#include <fmt/core.h>

#include "io/log.hpp"
#include "wire/ip_address.hpp"

namespace rtether::cli {

void add_remote_access_options(CLI::App* command, RemoteAccessOptions& options) {
  command->add_flag("--allow-remote", options.allow_remote,
                    "Accept a --bind, --forward or --metrics address beyond loopback: anyone "
                    "who can reach --bind uses this host's network (see --secret)");
  auto* on = command->add_flag("--host-loopback", options.host_loopback,
                               "Let devices reach the host's loopback (10.0.2.2, fd00::2:2, "
                               "127.0.0.0/8, ::1) even with --allow-remote");
  auto* off = command->add_flag("--no-host-loopback", options.no_host_loopback,
                                "Refuse the host's loopback to devices (TCP reset, ICMP "
                                "administratively prohibited)");
  on->excludes(off);
}

std::string check_client_listener(const wire::IpAddress& at, const RemoteAccessOptions& options,
                                  bool secret) {
  if (wire::is_loopback(at)) return {};
  if (!options.allow_remote)
    return fmt::format(
        "--bind {}: beyond loopback, anyone who can reach this port would use this host's "
        "network as their own (an open proxy); add --allow-remote to accept that risk",
        at.to_string());
  log::warn("--bind {} with --allow-remote: anyone who can reach this port uses this host's "
            "network as their own{}; host loopback is {}",
            at.to_string(), secret ? " if they hold the --secret" : " (no --secret required)",
            options.host_loopback ? "ON (--host-loopback): they reach its loopback services too"
                                  : "off (--host-loopback turns it on)");
  return {};
}

std::string check_forward_listener(const wire::IpAddress& at, const std::string& rule_text,
                                   const RemoteAccessOptions& options) {
  if (wire::is_loopback(at)) return {};
  if (!options.allow_remote)
    return fmt::format(
        "--forward {}: beyond loopback, anyone who can reach {} would reach the device's port; "
        "add --allow-remote to accept that risk",
        rule_text, at.to_string());
  log::warn("--forward {} with --allow-remote: anyone who can reach {} reaches the device's port",
            rule_text, at.to_string());
  return {};
}

std::string check_metrics_listener(const wire::IpAddress& at, const std::string& text,
                                   bool allow_remote) {
  if (wire::is_loopback(at)) return {};
  if (!allow_remote)
    return fmt::format(
        "--metrics {}: beyond loopback, anyone who can reach {} would see the devices' serials "
        "and traffic; add --allow-remote to accept that risk",
        text, at.to_string());
  log::warn("--metrics {} with --allow-remote: anyone who can reach {} sees the devices' serials "
            "and traffic",
            text, at.to_string());
  return {};
}

bool host_loopback_allowed(const RemoteAccessOptions& options, bool accepts_remote_clients) {
  if (options.no_host_loopback) return false;
  if (options.host_loopback) return true;
  return !accepts_remote_clients;
}

}  // namespace rtether::cli
