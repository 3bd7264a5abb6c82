// Gnirehtet's host commands, with its options and adb argument lists, so a
// Gnirehtet user keeps the same habits:
//   install|uninstall|reinstall [SERIAL]       the app, through adb
//   start|restart [SERIAL] [-d] [-r] [-p]      version check, install if
//                                              needed, reverse tunnel, am start
//   stop [SERIAL], tunnel [SERIAL] [-p]
//   run [SERIAL] [-d] [-r] [-p]                start, relay; Ctrl+C stops the app
//   autostart|autorun [-d] [-r] [-p]           watch adb (track-devices) and
//                                              start every device that appears
// run and autorun also take the relay's --forward and --outbound-* options,
// where @SERIAL and SERIAL= name a device: their relay knows each client's
// adb serial (relay/relay.hpp). `run SERIAL` labels its -p listener with the
// serial; autorun keeps -p for tunnels it did not set up (no serial) and
// gives each device its own loopback port (the system's choice, kept for
// the whole run so a replugged device gets the same one), the target of
// that device's reverse tunnel. Both take --metrics [ADDR:]PORT too
// (cli/metrics_option.hpp; beyond loopback with --allow-remote, which
// applies to it alone) and --control [PATH] (cli/control_option.hpp).
// Environment: ADB (adb binary), GNIREHTET_APK (or RTETHER_APK) for the apk
// (adb/host_files.hpp: else beside rtether's binary too),
// ADB_SERVER_SOCKET / ANDROID_ADB_SERVER_PORT for the adb server, as adb.
// Under systemd (Type=notify) autostart/autorun report READY=1 once watching
// adb (and listening), STOPPING=1 on a signal, STATUS= lines between
// (cli/service_status.hpp).
#include <cctype>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <optional>
#include <map>
#include <set>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "adb/adb_runner.hpp"
#include "adb/device_watcher.hpp"
#include "adb/gnirehtet_app.hpp"
#include "adb/host_files.hpp"
#include "adb/server_address.hpp"
#include "cli/app.hpp"
#include "cli/control_option.hpp"
#include "cli/device_worker.hpp"
#include "cli/dns_upstreams.hpp"
#include "cli/metrics_option.hpp"
#include "cli/outbound_options.hpp"
#include "cli/remote_access.hpp"
#include "cli/proxy_options.hpp"
#include "cli/service_status.hpp"
#include "cli/start_values.hpp"
#include "cli/status_display.hpp"
#include "cli/threads_option.hpp"
#include "io/console.hpp"
#include "io/event_loop.hpp"
#include "io/log.hpp"
#include "io/signal_watcher.hpp"
#include "relay/forward_rule.hpp"
#include "relay/relay.hpp"
#include "wire/gnirehtet.hpp"

namespace rtether::cli {

namespace {
constexpr int kDefaultStatusInterval = 10;                  // seconds between totals log lines
constexpr auto kAdbCheckTimeout = std::chrono::seconds(5);  // `adb version`

struct GnirehtetOptions {
  std::string serial;
  std::string dns = wire::gnirehtet::kDefaultDnsServer.to_string();
  std::string routes;
  std::uint16_t port = wire::gnirehtet::kRelayPort;
  int status_interval = kDefaultStatusInterval;
  std::vector<std::string> forwards;
  OutboundValues outbound;
  std::string metrics;
  bool allow_remote = false;  // for --metrics only: the relay itself stays on loopback
  ControlOption control;
  ProxyValues proxy;
  std::size_t threads = 1;

  std::optional<std::string> device() const {
    return serial.empty() ? std::nullopt : std::optional<std::string>(serial);
  }
  adb::StartOptions start_options() const { return adb::StartOptions{dns, routes, port}; }
};

enum Features : unsigned {
  kSerial = 1,
  kStartValues = 2,  // -d, -r
  kPort = 4,
  kStatus = 8,
  kRelayOptions = 16,  // --forward, --outbound-*, --metrics, --control, --threads, --proxy, --proxy-udp
};

// Validates a list and rewrites it to the canonical text sent to the app.
using Canonical = std::optional<std::string> (*)(std::string_view, std::string&);
CLI::Validator canonical_list(const char* name, Canonical canonical) {
  return CLI::Validator(
      [canonical](std::string& text) {
        std::string error;
        auto list = canonical(text, error);
        if (!list) return error;
        text = *list;
        return std::string();
      },
      "", name);
}

int fail(const std::string& error) {
  log::error("{}", error);
  return 1;
}

std::string device_label(const GnirehtetOptions& options) {
  return options.serial.empty() ? "(the only device)" : options.serial;
}

// --- one-shot commands ------------------------------------------------------

using AppAction = bool (*)(adb::GnirehtetApp&, const GnirehtetOptions&, std::string&);

int run_app_action(const GnirehtetOptions& options, AppAction action) {
  adb::AdbRunner adb(adb::adb_path_from_environment());
  adb::GnirehtetApp app(adb, adb::apk_path_from_environment());
  std::string error;
  return action(app, options, error) ? 0 : fail(error);
}

// --- relay in the foreground (run, autorun) ----------------------------------

// What run and autorun give their relay: the forwards and egress from the
// command line, checked before anything listens or touches a device.
struct RelayPlan {
  relay::RelayConfig config;
  std::vector<relay::ForwardRule> forwards;
  std::optional<io::Endpoint> metrics;
};

// nullopt after one error line, with the exit status in `exit_status` (2: a bad
// value; 1: an outbound setting this host cannot use).
std::optional<RelayPlan> plan_relay(const GnirehtetOptions& options, int& exit_status) {
  RelayPlan plan;
  plan.config.threads = options.threads;
  for (const auto& text : options.forwards) {
    std::string error;
    auto rule = relay::parse_forward_rule(text, error);
    if (!rule) throw std::logic_error("validated --forward failed to parse: " + error);
    // No --allow-remote here: a forward beyond loopback is refused.
    if (auto refused = check_forward_listener(rule->listen.address, text, {}); !refused.empty()) {
      log::error("{}", refused);
      exit_status = 2;
      return std::nullopt;
    }
    plan.forwards.push_back(*rule);
  }
  auto metrics = check_metrics_option(options.metrics, options.allow_remote);
  if (!metrics.refused.empty()) {
    log::error("{}", metrics.refused);
    exit_status = 2;
    return std::nullopt;
  }
  plan.metrics = metrics.at;
  if (std::string error;
      !apply_proxy_options(options.proxy, process_environment(), plan.config, error)) {
    log::error("{}", error);
    exit_status = 2;
    return std::nullopt;
  }
  OutboundSettings outbound;
  if (std::string error;
      !build_outbound(options.outbound, outbound, error, OutboundScopes::ClientIdsAndSerials)) {
    log::error("{}", error);
    exit_status = 2;
    return std::nullopt;
  }
  if (auto failed = probe_outbound(outbound); !failed.empty()) {
    log::error("{}", failed);
    exit_status = 1;
    return std::nullopt;
  }
  plan.config.outbound = std::move(outbound.all);
  plan.config.client_outbound = std::move(outbound.per_client);
  plan.config.serial_outbound = std::move(outbound.per_serial);
  // The app is given the relay's resolver (10.0.2.3) unless -d says
  // otherwise: it forwards to the host's resolvers, as `rtether relay` does
  // by default.
  if (auto upstreams = choose_dns_upstreams({}, {}))
    plan.config.dns_upstreams = std::move(*upstreams);
  return plan;
}

struct RelayHost {
  // `serial`: the device whose tunnel targets -p (run SERIAL); empty: none
  // known.
  RelayHost(const GnirehtetOptions& options, RelayPlan plan, const std::string& serial)
      : base_port(options.port), relay(loop, std::move(plan.config)) {
    relay.listen_tcp(io::Endpoint{wire::gnirehtet::kHostLoopbackV4, options.port}, serial);
    for (const auto& rule : plan.forwards) relay.add_forward(rule);
    // No --allow-remote here: forwards added at run time stay on loopback.
    control = open_control(options.control, loop, relay,
                           [](const relay::ForwardRule& rule, const std::string& text) {
                             return check_forward_listener(rule.listen.address, text, {});
                           });
    log_dns_upstreams(relay.config().dns_upstreams);
    if (plan.metrics) metrics = start_metrics(loop, relay, *plan.metrics);
    log_proxy(relay.config());
  }

  // autorun: the port of the device's own listener (opened on first use,
  // kept for the run), or -p when none could open.
  std::uint16_t device_port(const std::string& serial) {
    if (auto found = device_ports.find(serial); found != device_ports.end()) return found->second;
    try {
      io::Endpoint at =
          relay.listen_tcp(io::Endpoint{wire::gnirehtet::kHostLoopbackV4, 0}, serial);
      device_ports.emplace(serial, at.port);
      return at.port;
    } catch (const std::system_error& error) {
      log::warn("device {}: no listener of its own ({}); its tunnel goes to tcp:{}, unlabelled",
                serial, error.what(), base_port);
      return base_port;
    }
  }

  std::uint16_t base_port;
  io::EventLoop loop;
  relay::Relay relay;
  std::map<std::string, std::uint16_t> device_ports;
  std::unique_ptr<relay::MetricsServer> metrics;
  std::shared_ptr<control::ControlServer> control;
};

// What a device adb lists but cannot use needs from the user.
std::string waiting_state(const std::string& adb_state) {
  if (adb_state == "unauthorized")
    return "unauthorized: accept the USB debugging prompt on the device";
  if (adb_state == "offline") return "offline: waiting for it to come online";
  // "no permissions (...)": the device list parser keeps the first word.
  if (adb_state == "no" || adb_state.starts_with("no permissions"))
    return "no permissions: add a udev rule for it (apt-get install "
           "android-sdk-platform-tools-common) and your user to the plugdev group, then replug it";
  return adb_state + ": waiting until adb reports it ready";
}

// Devices adb lists but cannot use, and those no longer listed at all.
void show_listed(DeviceBoard& board, const adb::DeviceList& list) {
  std::set<std::string> listed;
  for (const auto& device : list.devices) {
    listed.insert(device.serial);
    if (!device.model.empty()) board.set_model(device.serial, device.model);
    if (device.state != "device") board.set(device.serial, waiting_state(device.state));
  }
  for (const auto& [serial, state] : board.snapshot())
    if (listed.count(serial) == 0 && state != DeviceBoard::kGone)
      board.set(serial, DeviceBoard::kGone);
}

std::chrono::seconds status_interval(const GnirehtetOptions& options) {
  return std::chrono::seconds(options.status_interval);
}

// Stopping the app takes an adb round trip: a second Ctrl+C quits at once
// (on Linux adb runs in its own process group and still delivers the stop;
// on Windows rtether's job object ends it with rtether).
int stop_device(adb::AdbRunner& adb, adb::GnirehtetApp& app, const GnirehtetOptions& options,
                io::SignalWatcher& signals) {
  adb.set_cancel_fd(-1);
  signals.pass_next_interrupt();
  log::info("stopping the device (Ctrl+C again to quit without waiting)");
  std::string error;
  return app.stop(options.device(), error) ? 0 : fail(error);
}

// `run` without SERIAL: the serial of the only device (`adb get-serialno`,
// which fails as any other command would with none or several), so that the
// status and the metrics name it, -p's listener is its, and the later
// commands (Ctrl+C's stop) reach it even if another device is plugged in
// meanwhile. Nullopt with `error` set (and `interrupted` by Ctrl+C).
std::optional<std::string> only_device_serial(const adb::AdbRunner& adb, bool& interrupted,
                                              std::string& error) {
  auto result = adb.run(std::nullopt, {"get-serialno"});
  interrupted = result.cancelled;
  if (!result.ok) {
    error = result.error;
    return std::nullopt;
  }
  std::string serial = result.output;
  while (!serial.empty() && std::isspace(static_cast<unsigned char>(serial.back())))
    serial.pop_back();
  if (serial.empty() || serial.find_first_of(" \t\n") != std::string::npos) {
    error = "'adb get-serialno' named no device: give its serial ('adb devices' lists them)";
    return std::nullopt;
  }
  return serial;
}

int run_run(const GnirehtetOptions& given) {
  int refused = 0;
  auto plan = plan_relay(given, refused);
  if (!plan) return refused;
  // Listen first: a used port fails before anything changes on the device,
  // and the app's first connection attempt finds the relay.
  RelayHost host(given, std::move(*plan), given.serial);
  io::SignalWatcher signals(host.loop, {SIGINT, SIGTERM}, [&](int signal) {
    log::info("stopping ({})", signal == SIGINT ? "SIGINT" : "SIGTERM");
    host.loop.stop();
  });
  // A Ctrl+C (pending on the watcher's fd) cancels the start: the adb command
  // under way is killed and none follows.
  adb::AdbRunner adb(adb::adb_path_from_environment());
  adb.set_cancel_fd(signals.fd());
  adb.set_own_process_group(true);  // the stop after Ctrl+C must survive it
  adb::GnirehtetApp app(adb, adb::apk_path_from_environment());
  std::string error;
  GnirehtetOptions options = given;
  if (options.serial.empty()) {
    // The loop has not run yet: a client already waiting is accepted on the
    // labelled listener.
    bool interrupted = false;
    auto serial = only_device_serial(adb, interrupted, error);
    if (!serial) {
      if (!interrupted) return fail(error);
      log::error("interrupted while starting the device");
      return 1;
    }
    options.serial = *serial;
    host.relay.label_listener(options.port, options.serial);
  }
  DeviceBoard board;
  board.set(device_label(options), "starting");
  if (!app.start(options.device(), options.start_options(), error)) {
    if (!app.interrupted()) return fail(error);
    log::error("interrupted while starting the device");
    // `am start` may have reached the device: undo it.
    if (app.start_sent()) stop_device(adb, app, options, signals);
    return 1;
  }
  adb.set_cancel_fd(-1);
  board.set(device_label(options),
            "started (reverse tunnel to tcp:" + std::to_string(options.port) + ")");
  StatusDisplay status(host.loop, &host.relay, &board, io::stdout_is_terminal(),
                       status_interval(options));
  host.loop.run();
  log::info("relay stopped: {}", host.relay.totals().summary());
  return stop_device(adb, app, options, signals);
}

// autostart/autorun would retry `adb start-server` forever without an adb
// to run: say so once and give up. Other `adb version` failures are only
// warned about (the watcher may still reach a server).
bool adb_runnable() {
  adb::AdbRunner adb(adb::adb_path_from_environment());
  auto result = adb.run(std::nullopt, {"version"}, kAdbCheckTimeout);
  if (result.ok) return true;
  if (!result.started) {
    log::error("{}", result.error);
    return false;
  }
  log::warn("{}", result.error);
  return true;
}

int run_watching(const GnirehtetOptions& options, bool with_relay) {
  std::string error;
  auto server = adb::server_address_from_environment(std::getenv("ADB_SERVER_SOCKET"),
                                                     std::getenv("ANDROID_ADB_SERVER_PORT"), error);
  if (!server) {
    log::error("{}", error);
    return 2;
  }
  std::optional<RelayPlan> plan;
  if (with_relay) {
    int refused = 0;
    plan = plan_relay(options, refused);
    if (!plan) return refused;
  }
  if (!adb_runnable()) return 1;
  std::optional<RelayHost> host_with_relay;
  std::optional<io::EventLoop> bare_loop;
  if (with_relay) {
    host_with_relay.emplace(options, std::move(*plan), std::string());
  } else {
    bare_loop.emplace();
  }
  io::EventLoop& loop = with_relay ? host_with_relay->loop : *bare_loop;
  std::optional<ServiceStatus> service;
  io::SignalWatcher signals(loop, {SIGINT, SIGTERM}, [&](int signal) {
    log::info("stopping ({})", signal == SIGINT ? "SIGINT" : "SIGTERM");
    service->stopping("stopping the devices");
    loop.stop();
  });
  // Started after the signals are blocked: its thread inherits the mask.
  DeviceBoard board;
  DeviceWorker worker(adb::adb_path_from_environment(), adb::apk_path_from_environment(),
                      options.start_options(), board);
  adb::DeviceWatcher watcher(
      loop, *server,
      adb::DeviceWatcher::Callbacks{
          [&](const std::string& serial) {
            worker.start_device(serial, with_relay ? host_with_relay->device_port(serial)
                                                   : options.port);
          },
          [&](const std::string& serial) { board.set(serial, DeviceBoard::kGone); },
          [&](const adb::DeviceList& list) { show_listed(board, list); },
          [&](const std::string&) { worker.start_server(); },
      });
  watcher.start();
  // Under systemd (Type=notify): the relay listens and adb is watched.
  service.emplace(loop, with_relay ? &host_with_relay->relay : nullptr, &board,
                  with_relay ? "relaying on tcp:" + std::to_string(options.port) +
                                   ", starting every device adb lists"
                             : "starting every device adb lists",
                  status_interval(options));
  StatusDisplay status(loop, with_relay ? &host_with_relay->relay : nullptr, &board,
                       io::stdout_is_terminal(), status_interval(options));
  loop.run();
  worker.shutdown();
  if (with_relay) log::info("relay stopped: {}", host_with_relay->relay.totals().summary());
  return 0;
}

// --- registration -------------------------------------------------------------

CLI::App* add_command(CLI::App& app, const char* name, const std::string& description,
                      const std::shared_ptr<GnirehtetOptions>& options, unsigned features,
                      const char* examples) {
  auto* command = app.add_subcommand(name, description);
  if (features & kSerial)
    command->add_option("serial", options->serial,
                        "Device serial (as 'adb devices' lists it); needed with several devices");
  if (features & kStartValues) {
    command
        ->add_option("-d,--dns", options->dns,
                     "DNS servers for the device, comma-separated (default " +
                         wire::gnirehtet::kDefaultDnsServer.to_string() + ")")
        ->transform(canonical_list("DNS[,DNS...]", canonical_dns_list));
    command
        ->add_option("-r,--routes", options->routes,
                     "Routes through the relay, CIDR, comma-separated (default 0.0.0.0/0)")
        ->transform(canonical_list("ROUTE[,ROUTE...]", canonical_route_list));
  }
  if (features & kPort)
    command->add_option("-p,--port", options->port, "Relay TCP port (the reverse tunnel's target)")
        ->default_val(wire::gnirehtet::kRelayPort)
        ->check(CLI::Range(1, 65535));
  if (features & kRelayOptions) {
    command
        ->add_option("--forward", options->forwards,
                     "Forward a host port into a device: tcp|udp:[BIND:]HOSTPORT:DEVICEPORT"
                     "[@CLIENT|@SERIAL] (repeatable; BIND defaults to " +
                         wire::gnirehtet::kHostLoopbackV4.to_string() +
                         ", loopback only; SERIAL as 'adb devices' lists it)")
        ->check([](const std::string& text) {
          std::string error;
          return relay::parse_forward_rule(text, error) ? std::string{} : error;
        });
    command
        ->add_option("--outbound-address", options->outbound.addresses,
                     "Host sockets toward destinations leave from ADDR (repeatable: one IPv4, "
                     "one IPv6; SERIAL=ADDR for one device, ID=ADDR for one relay client)")
        ->type_name("[SERIAL=|ID=]ADDR")
        ->check([](const std::string& text) {
          return check_outbound_address(text, OutboundScopes::ClientIdsAndSerials);
        });
    command
        ->add_option("--outbound-interface", options->outbound.interfaces,
                     "Host sockets toward destinations leave through IFACE (SERIAL=IFACE for "
                     "one device, ID=IFACE for one relay client)")
        ->type_name("[SERIAL=|ID=]IFACE")
        ->check([](const std::string& text) {
          return check_outbound_interface(text, OutboundScopes::ClientIdsAndSerials);
        });
    add_metrics_option(command, options->metrics);
    command->add_flag("--allow-remote", options->allow_remote,
                      "Accept a --metrics address beyond loopback (anyone who reaches it sees "
                      "the devices' serials and traffic)");
    add_control_option(command, options->control);
    add_threads_option(command, options->threads);
  }
  if (features & kStatus)
    command
        ->add_option("--status-interval", options->status_interval,
                     "Seconds between totals log lines when not on a terminal (0 = none)")
        ->default_val(kDefaultStatusInterval)
        ->check(CLI::Range(0, 86400));
  if (features & kRelayOptions) add_proxy_options(command, options->proxy);
  command->footer(std::string("Environment: ADB (adb binary; default: ") + adb::adb_file_name() +
                  " next to rtether, else from PATH),\nGNIREHTET_APK or RTETHER_APK (default: " +
                  adb::kApkFileName +
                  " in the current directory, else next to rtether),\nADB_SERVER_SOCKET (adb "
                  "server, default " +
                  adb::ServerAddress{}.to_string() + ").\n\nExamples:\n" + examples);
  return command;
}

template <typename Run>
void on_selected(CLI::App* command, CommandBody& body,
                 const std::shared_ptr<GnirehtetOptions>& options, Run run) {
  command->callback([options, &body, run] { body = [options, run] { return run(*options); }; });
}
}  // namespace

void register_gnirehtet(CLI::App& app, CommandBody& body) {
  using App = adb::GnirehtetApp;
  using Options = GnirehtetOptions;
  auto action = [](AppAction act) {
    return [act](const Options& options) { return run_app_action(options, act); };
  };
  {
    auto options = std::make_shared<Options>();
    auto* command = add_command(
        app, "install", "Install the Gnirehtet app on the device", options, kSerial,
        "  rtether install\n  GNIREHTET_APK=~/gnirehtet.apk rtether install 0123456789ABCDEF");
    on_selected(command, body, options, action([](App& a, const Options& o, std::string& e) {
                  return a.install(o.device(), e);
                }));
  }
  {
    auto options = std::make_shared<Options>();
    auto* command =
        add_command(app, "uninstall", "Uninstall the Gnirehtet app from the device", options,
                    kSerial, "  rtether uninstall\n  rtether uninstall 0123456789ABCDEF");
    on_selected(command, body, options, action([](App& a, const Options& o, std::string& e) {
                  return a.uninstall(o.device(), e);
                }));
  }
  {
    auto options = std::make_shared<Options>();
    auto* command =
        add_command(app, "reinstall", "Uninstall, then install the Gnirehtet app", options, kSerial,
                    "  rtether reinstall\n  rtether reinstall 0123456789ABCDEF");
    on_selected(command, body, options, action([](App& a, const Options& o, std::string& e) {
                  return a.reinstall(o.device(), e);
                }));
  }
  {
    auto options = std::make_shared<Options>();
    auto* command = add_command(
        app, "start",
        "Start reverse tethering on the device (installs the app if needed; run a relay too)",
        options, kSerial | kStartValues | kPort,
        "  rtether start\n  rtether start 0123456789ABCDEF -d 192.0.2.53 -r "
        "10.0.0.0/8,192.168.0.0/16\n"
        "  rtether start -p 31417");
    on_selected(command, body, options, action([](App& a, const Options& o, std::string& e) {
                  return a.start(o.device(), o.start_options(), e);
                }));
  }
  {
    auto options = std::make_shared<Options>();
    auto* command = add_command(app, "stop", "Stop reverse tethering on the device", options,
                                kSerial, "  rtether stop\n  rtether stop 0123456789ABCDEF");
    on_selected(command, body, options, action([](App& a, const Options& o, std::string& e) {
                  return a.stop(o.device(), e);
                }));
  }
  {
    auto options = std::make_shared<Options>();
    auto* command =
        add_command(app, "restart", "Stop, then start reverse tethering on the device", options,
                    kSerial | kStartValues | kPort,
                    "  rtether restart\n  rtether restart 0123456789ABCDEF -d 192.0.2.53");
    on_selected(command, body, options, action([](App& a, const Options& o, std::string& e) {
                  return a.stop(o.device(), e) && a.start(o.device(), o.start_options(), e);
                }));
  }
  {
    auto options = std::make_shared<Options>();
    auto* command = add_command(
        app, "tunnel",
        "Set up the reverse tunnel only (adb reverse localabstract:" +
            std::string(wire::gnirehtet::kAbstractSocketName) + " tcp:PORT)",
        options,
        kSerial | kPort, "  rtether tunnel\n  rtether tunnel 0123456789ABCDEF -p 31417");
    on_selected(command, body, options, action([](App& a, const Options& o, std::string& e) {
                  return a.tunnel(o.device(), o.port, e);
                }));
  }
  {
    auto options = std::make_shared<Options>();
    auto* command = add_command(
        app, "run", "Start the device, relay in the foreground; Ctrl+C stops the device", options,
        kSerial | kStartValues | kPort | kStatus | kRelayOptions,
        "  rtether run\n  rtether run 0123456789ABCDEF -d 192.0.2.53 -r 0.0.0.0/0\n"
        "  rtether run 0123456789ABCDEF --forward tcp:8022:22@0123456789ABCDEF\n"
        "  rtether run -p 31417 > rtether.log   (plain log lines when not on a terminal)");
    on_selected(command, body, options, [](const Options& o) { return run_run(o); });
  }
  {
    auto options = std::make_shared<Options>();
    auto* command =
        add_command(app, "autostart", "Watch adb for devices and start each new one (no relay)",
                    options, kStartValues | kPort,
                    "  rtether autostart\n  ADB_SERVER_SOCKET=tcp:127.0.0.1:5038 rtether autostart "
                    "-d 192.0.2.53");
    on_selected(command, body, options, [](const Options& o) { return run_watching(o, false); });
  }
  {
    auto options = std::make_shared<Options>();
    auto* command = add_command(
        app, "autorun", "Relay, and start every device adb sees (again when it is plugged back)",
        options, kStartValues | kPort | kStatus | kRelayOptions,
        "  rtether autorun\n  rtether autorun -d 192.0.2.53 -r 0.0.0.0/0 -p 31417\n"
        "  rtether autorun --forward tcp:8022:22@0123456789ABCDEF "
        "--outbound-address 0123456789ABCDEF=192.0.2.10\n"
        "  rtether autorun --metrics 9464   (http://127.0.0.1:9464/metrics)\n"
        "  rtether autorun --proxy socks5://192.0.2.8:1080");
    command->get_option("--port")->description(
        "Relay TCP port for tunnels autorun did not set up (each device gets a loopback port of "
        "its own, so the relay knows its serial)");
    on_selected(command, body, options, [](const Options& o) { return run_watching(o, true); });
  }
}

}  // namespace rtether::cli
