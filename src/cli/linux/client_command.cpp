// `rtether client`: the Linux device side's command line. It parses the
// options and wires the daemon (daemon/daemon.hpp: the session loop) to its
// management interface (a ManagementServer, listening, connecting, or on a
// socketpair to the in-process UI, plus a TCP port for monitoring tools with
// `--management IP PORT`) and to the relay link and forwarder.
#include <signal.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "cli/app.hpp"
#include "cli/management_option.hpp"
#include "daemon/daemon.hpp"
#include "daemon/in_process_ui.hpp"
#include "daemon/linux_forwarding_port.hpp"
#include "daemon/management_server_port.hpp"
#include "daemon/ready_fd.hpp"
#include "daemon/tun_plan.hpp"
#include "device/netns.hpp"
#include "cli/secret_file.hpp"
#include "device/relay_link.hpp"
#include "device/tun_device.hpp"
#include "device/tun_forwarder.hpp"
#include "io/log.hpp"
#include "mgmt/management_server.hpp"
#include "wire/gnirehtet.hpp"
#include "wire/ip_address.hpp"
#include "wire/ip_prefix.hpp"

#ifndef RTETHER_VERSION
#define RTETHER_VERSION "dev"
#endif

namespace rtether::cli {
namespace {

struct ClientOptions {
  std::string relay = wire::gnirehtet::kHostLoopbackV4.to_string() + ":" +
                      std::to_string(wire::gnirehtet::kRelayPort);
  std::string netns;
  std::string tun = device::TunDevice::kDefaultName;
  int mtu = daemon::kDefaultMtu;
  std::string dns = wire::gnirehtet::kDefaultDnsServer.to_string();
  std::string routes = "0.0.0.0/0";
  std::string dns_domain;
  bool ipv6 = true;
  int ready_fd = -1;
  std::vector<std::string> management;  // PATH [unix [PWFILE]] | IP PORT [PWFILE]
  bool management_allow_remote = false;
  bool management_client = false;
  bool management_hold = false;
  long management_allow_uid = -1;
  std::string secret_file;
};

template <typename Parse>
CLI::Validator list_validator(const char* name, Parse parse) {
  return CLI::Validator(
      [parse](std::string& text) {
        std::string error;
        return parse(text, error) ? std::string() : error;
      },
      "", name);
}

int run_client(ClientOptions options) {
  // A reader of --ready-fd (or a UI) that went away is an EPIPE to report,
  // not a reason to die.
  std::string error;
  auto relay = device::parse_relay_address(options.relay, error);
  auto routes = wire::parse_prefix_list(options.routes, error);
  auto dns = wire::parse_address_list(options.dns, error);
  if (!relay || !routes || !dns) throw std::logic_error("validated option failed to parse");
  std::vector<std::uint8_t> secret;
  if (!options.secret_file.empty()) {
    auto read = read_secret_file(options.secret_file, error);
    if (!read) {
      log::error("{}", error);
      return 2;
    }
    secret = std::move(*read);
  }
  if (!options.netns.empty() && !device::netns_exists(options.netns)) {
    throw std::runtime_error("network namespace '" + options.netns + "' does not exist");
  }
  std::optional<ManagementOption> management_option;
  std::string password;
  if (!options.management.empty()) {
    management_option = parse_management_option(options.management, error);
    if (!management_option) throw std::logic_error("validated option failed to parse");
    if (!management_option->password_file.empty()) {
      auto read = read_management_password(management_option->password_file, error);
      if (!read) {
        log::error("{}", error);
        return 2;
      }
      password = std::move(*read);
    }
  }
  bool tcp_management =
      management_option && management_option->kind == ManagementOption::Kind::Tcp;
  daemon::ReadyFd ready(options.ready_fd);
  if (management_option && !tcp_management &&
      (!options.netns.empty() || options.tun != device::TunDevice::kDefaultName)) {
    log::warn("--netns and --tun are for the in-process UI; with --management the UI chooses");
  }
  if (tcp_management && password.empty()) {
    // OpenVPN's own warning (options.c).
    log::warn("WARNING: Using --management on a TCP port WITHOUT passwords is STRONGLY "
              "discouraged and considered insecure");
  }
  if (tcp_management && !wire::is_loopback(management_option->address)) {
    log::warn("--management {} {} with --management-allow-remote: anyone who can reach this port "
              "{}can watch and stop this daemon, in clear text",
              management_option->address.to_string(), management_option->port,
              password.empty() ? "" : "and knows the password ");
  }
  auto plan = daemon::TunPlan::make(options.mtu, options.ipv6, *routes, *dns, options.dns_domain);

  // The forwarder comes first: the management thread reads its counters.
  device::TunForwarder forwarder(-1);
  mgmt::ManagementCore::Hooks hooks;
  hooks.totals = [&forwarder] {
    const auto& counters = forwarder.counters();
    mgmt::TrafficTotals totals;
    totals.link_in = counters.bytes_to_tun.load(std::memory_order_relaxed);
    totals.link_out = counters.bytes_to_relay.load(std::memory_order_relaxed);
    totals.tun_read = totals.link_out;
    totals.tun_write = totals.link_in;
    return totals;
  };
  mgmt::ServerOptions server_options;
  server_options.title = std::string("rtether ") + RTETHER_VERSION + " Linux [TUN] [SCM_RIGHTS]";
  server_options.hold = options.management_hold;
  if (options.management_allow_uid >= 0) {
    server_options.allowed_uid = static_cast<uid_t>(options.management_allow_uid);
  }
  io::Fd ui_end;
  if (tcp_management) {
    server_options.tcp = io::Endpoint{management_option->address, management_option->port};
    server_options.tcp_password = password;
  }
  if (!management_option || tcp_management) {
    auto [daemon_end, ui] = daemon::InProcessUi::socket_pair();
    server_options.mode = mgmt::ServerOptions::Mode::Attached;
    server_options.attached = std::move(daemon_end);
    ui_end = std::move(ui);
  } else {
    server_options.mode = options.management_client ? mgmt::ServerOptions::Mode::Connect
                                                    : mgmt::ServerOptions::Mode::Listen;
    server_options.path = management_option->path;
    server_options.password = password;
  }
  // Blocks the stop/restart signals before any other thread starts, so
  // every thread inherits the mask and only the management thread sees them.
  std::optional<mgmt::ManagementServer> management;
  management.emplace(std::move(server_options), hooks);
  std::optional<daemon::InProcessUi> ui;
  if (ui_end.valid()) ui.emplace(std::move(ui_end), options.tun, options.netns);
  daemon::ManagementServerPort management_port(*management);
  daemon::LinuxForwardingPort forwarding_port(*relay, management->interrupt_fd(), forwarder, ready,
                                              std::move(secret));
  int status = daemon::Daemon(*relay, std::move(plan), management_port, forwarding_port).run();
  // Closing the management socket ends the in-process UI, which then
  // removes its resolv.conf.
  management.reset();
  ui.reset();
  return status;
}

}  // namespace

void register_client(CLI::App& app, CommandBody& body) {
  auto options = std::make_shared<ClientOptions>();
  auto* command = app.add_subcommand(
      "client", "Device side on Linux: tun (optionally in a network namespace) <-> relay");
  command->add_option("--relay", options->relay,
                      "Relay to connect to: HOST:PORT, [IPV6]:PORT, or unix:PATH "
                      "(unix:@NAME = abstract socket)")
      ->capture_default_str()
      ->type_name("ADDR")
      ->check(list_validator("ADDRESS", [](const std::string& text, std::string& error) {
        return device::parse_relay_address(text, error).has_value();
      }));
  command->add_option("--netns", options->netns,
                      "Create the tun in this named network namespace (/run/netns/NAME); "
                      "DNS goes to /etc/netns/NAME/resolv.conf (in-process UI only)");
  command->add_option("--tun", options->tun, "Tun interface name (in-process UI only)")
      ->capture_default_str();
  command->add_option("--mtu", options->mtu,
                      "Tun MTU. The default is near the 65535-byte IP maximum because fewer, "
                      "larger packets cost less per byte on both sides (Gnirehtet's app: 16384)")
      ->capture_default_str()
      ->check(CLI::Range(68, 65535));
  command->add_option("-d,--dns", options->dns,
                      "DNS servers, comma-separated (never written to the default "
                      "namespace's /etc/resolv.conf)")
      ->capture_default_str()
      ->type_name("DNS[,DNS...]")
      ->check(list_validator("DNS[,DNS...]", [](const std::string& text, std::string& error) {
        return wire::parse_address_list(text, error).has_value();
      }));
  command->add_option("-r,--routes", options->routes,
                      "Routes through the tun, comma-separated CIDR (bare address = host route)")
      ->capture_default_str()
      ->type_name("ROUTE[,ROUTE...]")
      ->check(list_validator("ROUTE[,ROUTE...]", [](const std::string& text, std::string& error) {
        return wire::parse_prefix_list(text, error).has_value();
      }));
  command->add_option("--dns-domain", options->dns_domain,
                      "DNS search domain (resolv.conf's \"search\" line)")
      ->type_name("DOMAIN")
      ->check(list_validator("DOMAIN", [](const std::string& text, std::string& error) {
        bool ok = !text.empty() && text.find_first_of(" \t,\\'\"#;") == std::string::npos;
        if (!ok) error = "'" + text + "' is not a domain name";
        return ok;
      }));
  command->add_flag("--ipv6,!--no-ipv6", options->ipv6,
                    "IPv6 on the tun: address " +
                        wire::gnirehtet::kDeviceAddressV6.to_string() + "/" +
                        std::to_string(daemon::kDeviceAddressV6Length) +
                        " and route ::/0 (or the IPv6 routes of -r); on by default");
  command->add_option("--ready-fd", options->ready_fd,
                      "Write \"ready <tun>\\n\" to this inherited fd once connected with the "
                      "tun up, then close it (for a supervising process)")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--management", options->management,
                      "OpenVPN's management interface: on the UNIX socket PATH (created 0600), "
                      "where a UI such as `rtether vpnservice` sets up the tun; or on TCP "
                      "IP PORT (loopback unless --management-allow-remote) for monitoring "
                      "tools, the tun then set up in-process. PWFILE's first line is the "
                      "password each connection must send first")
      ->type_name("PATH [unix [PWFILE]] | IP PORT [PWFILE]")
      ->expected(1, 3);
  command->add_flag("--management-allow-remote", options->management_allow_remote,
                    "Accept a --management IP beyond loopback: anyone who reaches it (and "
                    "knows PWFILE's password) can watch and stop the daemon, in clear text");
  command->add_flag("--management-client", options->management_client,
                    "Connect to PATH, where the UI listens, instead of listening; the daemon "
                    "stops when the UI goes (as OpenVPN)");
  command->add_flag("--management-hold", options->management_hold,
                    "Wait for `hold release` at start and after every restart");
  command->add_option("--secret", options->secret_file,
                      "Answer the relay's shared-secret handshake with the secret in FILE "
                      "(the relay's --secret)")
      ->type_name("FILE");
  command->add_option("--management-allow-uid", options->management_allow_uid,
                      "Also accept management clients of this uid (default: ours only)")
      ->check(CLI::NonNegativeNumber);
  command->callback([&body, options] {
    // Bad combinations are bad values: one line, exit 2, like the others.
    if (options->management.empty()) {
      if (options->management_client || options->management_hold ||
          options->management_allow_uid >= 0 || options->management_allow_remote) {
        throw CLI::ValidationError("--management-*", "needs --management");
      }
    } else {
      std::string error;
      auto management = parse_management_option(options->management, error);
      if (!management) throw CLI::ValidationError("--management", error);
      bool tcp = management->kind == ManagementOption::Kind::Tcp;
      if (tcp && options->management_client) {
        throw CLI::ValidationError("--management-client",
                                   "needs a UNIX socket PATH: a TCP connection cannot carry "
                                   "the tun's descriptor to the daemon");
      }
      if (tcp && options->management_allow_uid >= 0) {
        throw CLI::ValidationError("--management-allow-uid", "is for a UNIX socket PATH");
      }
      if (!tcp && options->management_allow_remote) {
        throw CLI::ValidationError("--management-allow-remote", "is for --management IP PORT");
      }
      if (tcp && !wire::is_loopback(management->address) &&
          !options->management_allow_remote) {
        throw CLI::ValidationError(
            "--management",
            management->address.to_string() +
                ": beyond loopback, anyone who can reach this port could watch and stop the "
                "daemon (the protocol is clear text); add --management-allow-remote to accept "
                "that risk");
      }
    }
    body = [options] { return run_client(*options); };
  });
}

}  // namespace rtether::cli
