// `rtether vpnservice`: a Linux stand-in for Android's VpnService and the
// ics-openvpn app's management thread. It connects to a daemon's
// management socket (or, with --listen, listens for a daemon started with
// --management-client, as ics-openvpn does), answers its NEED-OK callbacks
// (mgmt::UiSession), builds the tun it asks for in the given namespace and
// passes the fd over, protects the relay socket, and shows state and byte
// counts. It answers >PROXY (--proxy, else `proxy NONE`), >PASSWORD
// (--auth-user-pass, --askpass, or a prompt on the terminal) and >PK_SIGN
// (--external-key) as ics-openvpn does (VpnServiceProfile), and routes
// the daemon's net_gateway routes around the tun.
// Ctrl+C becomes `signal SIGINT` (a second one leaves at once);
// SIGUSR1 pauses (the daemon drops
// the relay link and waits in hold); SIGCONT or Enter resumes.
#include <signal.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <string>

#include "cli/app.hpp"
#include "cli/linux/vpnservice_profile.hpp"
#include "daemon/linux_vpn_service.hpp"
#include "device/netns.hpp"
#include "io/log.hpp"
#include "io/private_unix_listener.hpp"
#include "io/signal_watcher.hpp"
#include "io/socket.hpp"
#include "mgmt/ui_client.hpp"

namespace rtether::cli {
namespace {

struct VpnServiceOptions {
  std::string management;
  bool listen = false;
  std::string netns;
  std::string tun = device::TunDevice::kDefaultName;
  VpnServiceProfileOptions profile;
};

void show(const mgmt::UiEvent& event) {
  using Kind = mgmt::UiEvent::Kind;
  auto now = std::time(nullptr);
  char stamp[16];
  std::strftime(stamp, sizeof stamp, "%H:%M:%S", std::localtime(&now));
  const char* label = nullptr;
  std::string text = event.text;
  switch (event.kind) {
    case Kind::State: {
      label = "state";
      auto state = mgmt::parse_state(event.text);
      if (state) {
        text = state->name;
        if (!state->detail.empty()) text += " " + state->detail;
        if (!state->tun_ipv4.empty()) text += " " + state->tun_ipv4;
        if (!state->tun_ipv6.empty()) text += " " + state->tun_ipv6;
        if (!state->remote_address.empty()) {
          text += " relay " + state->remote_address +
                  (state->remote_port.empty() ? "" : ":" + state->remote_port);
        }
      }
      break;
    }
    case Kind::ByteCount: {
      label = "traffic";
      if (auto count = mgmt::parse_bytecount(event.text)) {
        text = "in " + std::to_string(count->bytes_in) + " B, out " +
               std::to_string(count->bytes_out) + " B";
      }
      break;
    }
    case Kind::Hold: label = "hold"; break;
    case Kind::NeedOk: label = "need-ok"; break;
    case Kind::Fatal: label = "FATAL"; break;
    case Kind::Info: label = "info"; break;
    case Kind::Log:
      log::debug("daemon log: {}", event.text);
      return;
    case Kind::Reply:
      log::debug("daemon: {}", event.text);
      return;
  }
  std::printf("%s %-8s %s\n", stamp, label, text.c_str());
  std::fflush(stdout);
}

io::Fd connect_or_accept(const VpnServiceOptions& options, io::PrivateUnixListener& listener) {
  if (!options.listen) {
    try {
      return io::connect_unix_blocking(options.management);
    } catch (const std::system_error& e) {
      throw std::runtime_error(e.what());
    }
  }
  // The daemon (--management-client) connects to us: one daemon, then done.
  listener = io::PrivateUnixListener(options.management, 1);
  log::info("waiting for a daemon on {}", options.management);
  return {};
}

int run_vpnservice(const VpnServiceOptions& options) {
  if (!options.netns.empty() && !device::netns_exists(options.netns)) {
    throw std::runtime_error("network namespace '" + options.netns + "' does not exist");
  }
  io::Fd signals = io::block_into_signal_fd({SIGINT, SIGTERM, SIGUSR1, SIGCONT, SIGHUP});
  // Before any connection: a bad file is a start-up error, not a stall.
  VpnServiceProfile profile(options.profile, signals.get());
  io::PrivateUnixListener listener;
  io::Fd socket = connect_or_accept(options, listener);
  if (!socket.valid()) {
    // Accept blocking, but still answer Ctrl+C.
    for (;;) {
      pollfd fds[2] = {{listener.fd(), POLLIN, 0}, {signals.get(), POLLIN, 0}};
      if (poll(fds, 2, -1) < 0 && errno != EINTR) throw std::runtime_error("poll failed");
      if (fds[1].revents) return 0;
      if (fds[0].revents) {
        auto accepted = io::accept_nonblocking(listener.fd());
        if (accepted) {
          socket = std::move(*accepted);
          break;
        }
      }
    }
    listener.close();
  }
  daemon::LinuxVpnService service(options.tun, options.netns);
  mgmt::UiSession session(service, show, &profile);
  mgmt::UiClient client(std::move(socket), session);
  bool stopping = false;
  std::vector<mgmt::UiClient::Watch> watches;
  watches.push_back({signals.get(), [&] {
                       signalfd_siginfo info;
                       while (read(signals.get(), &info, sizeof info) == sizeof info) {
                         switch (static_cast<int>(info.ssi_signo)) {
                           case SIGUSR1:
                             show({mgmt::UiEvent::Kind::Info, "pause"});
                             client.send(session.pause());
                             break;
                           case SIGCONT:
                             show({mgmt::UiEvent::Kind::Info, "resume"});
                             client.send(session.resume());
                             break;
                           default:
                             // A second Ctrl+C does not wait for the daemon.
                             if (stopping) {
                               client.abandon();
                               break;
                             }
                             stopping = true;
                             client.send(session.stop());
                         }
                       }
                     }});
  bool terminal = isatty(STDIN_FILENO) == 1;
  if (terminal) {
    watches.push_back({STDIN_FILENO, [&] {
                         char buffer[256];
                         if (read(STDIN_FILENO, buffer, sizeof buffer) > 0 && session.paused()) {
                           show({mgmt::UiEvent::Kind::Info, "resume"});
                           client.send(session.resume());
                         }
                       }});
  }
  bool clean = client.run(watches);
  show({mgmt::UiEvent::Kind::Info, "daemon closed the management session"});
  if (!clean || session.failed()) return 1;
  return 0;
}

}  // namespace

void register_vpnservice(CLI::App& app, CommandBody& body) {
  auto options = std::make_shared<VpnServiceOptions>();
  auto* command = app.add_subcommand(
      "vpnservice",
      "Linux VpnService helper: drives a device daemon's management interface, builds its tun");
  command->add_option("--management", options->management,
                      "The daemon's management socket (with --listen: where to listen for a "
                      "daemon started with --management-client)")
      ->required()
      ->type_name("PATH");
  command->add_flag("--listen", options->listen,
                    "Listen on PATH and wait for the daemon to connect (as ics-openvpn does)");
  command->add_option("--netns", options->netns,
                      "Create the tun in this named network namespace (/run/netns/NAME)");
  command->add_option("--tun", options->tun, "Tun interface name")->capture_default_str();
  command
      ->add_option("--proxy", options->profile.proxy,
                   "Answer the daemon's >PROXY (management-query-proxy) with this proxy: "
                   "http://HOST:PORT or socks://HOST:PORT (default: proxy NONE)")
      ->type_name("URL");
  command
      ->add_option("--auth-user-pass", options->profile.auth_user_pass,
                   "Answer >PASSWORD 'Auth' from FILE: username on the first line, password on "
                   "the second (OpenVPN's format); without it, a terminal prompt")
      ->check(CLI::ExistingFile)
      ->type_name("FILE");
  command
      ->add_option("--askpass", options->profile.askpass,
                   "Answer >PASSWORD 'Private Key' with the first line of FILE (also the "
                   "password of an encrypted --external-key); without it, a terminal prompt")
      ->check(CLI::ExistingFile)
      ->type_name("FILE");
  command
      ->add_option("--external-key", options->profile.external_key,
                   "Answer >PK_SIGN (management-external-key) by signing with this PEM private "
                   "key (RSA, EC, Ed25519, Ed448)")
      ->check(CLI::ExistingFile)
      ->type_name("FILE");
  command->callback([&body, options] { body = [options] { return run_vpnservice(*options); }; });
}

}  // namespace rtether::cli
