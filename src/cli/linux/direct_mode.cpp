// Direct mode on Linux (see cli/direct_mode.hpp): `rtether relay --netns
// NAME|PATH|PID [--mtu N] [--ready-fd N]`.
//
// Start-up: refuse the relay's own namespace (its host sockets would route
// into the tun) -> LinuxTunBuilder inside the target (rtether0, 10.0.0.2/32,
// fd00::2/128, 0.0.0.0/0 and ::/0, the MTU, DNS 10.0.2.3 in
// /etc/netns/NAME/resolv.conf for a named namespace), the same tun
// `rtether client` builds -> its fd becomes a device::PacketLink attached to
// the relay -> "ready rtether0" on --ready-fd. The tun goes with the relay
// (not persistent); a tun that fails ends its session and stops the relay
// with exit status 1.
//
// Not root: the namespace is an unprivileged user's (rootless containers,
// `unshare -rn`, `rtether shell` as that user), so a forked child joins the
// user namespace that owns it before its network namespace, builds the tun
// there and passes its fd back (device/user_namespace.hpp); the relay's
// sockets stay on the host. A PID target is watched (pidfd): when that
// process exits the relay ends (exit status 0), saying so.
#include "cli/direct_mode.hpp"

#include <unistd.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/ready_fd.hpp"
#include "daemon/tun_plan.hpp"
#include "device/netns.hpp"
#include "device/packet_link.hpp"
#include "device/tun_builder.hpp"
#include "device/tun_device.hpp"
#include "device/tun_steering.hpp"
#include "device/user_namespace.hpp"
#include "io/log.hpp"
#include "wire/gnirehtet.hpp"

namespace rtether::cli {
namespace {

struct DirectOptions {
  std::string netns;
  int mtu = daemon::kDefaultMtu;
  int ready_fd = -1;
};

// `--netns PID`: the relay ends when that process does (its namespace
// would then hold nothing but our tun).
class ProcessWatch final : public io::Handler {
 public:
  ProcessWatch(io::EventLoop& loop, pid_t pid)
      : loop_(loop), pid_(pid), fd_(device::open_process_watch(pid)) {
    loop_.add(fd_.get(), io::Interest::Read, io::Trigger::Level, this);
  }
  ~ProcessWatch() override {
    if (fd_.valid()) loop_.remove(fd_.get());
  }
  ProcessWatch(const ProcessWatch&) = delete;
  ProcessWatch& operator=(const ProcessWatch&) = delete;

  void on_ready(io::Readiness) override {
    log::info("process {} (--netns {}) exited: relay stopping", pid_, pid_);
    loop_.remove(fd_.get());
    fd_.reset();
    loop_.stop();
  }

 private:
  io::EventLoop& loop_;
  pid_t pid_;
  io::Fd fd_;
};

std::optional<pid_t> target_pid(const std::string& text) {
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return static_cast<pid_t>(std::stol(text));
}

class NamespaceDevice final : public DirectDevice {
 public:
  NamespaceDevice(const DirectOptions& options, relay::Relay& relay, io::EventLoop& loop);
  bool lost() const override { return lost_; }

 private:
  std::unique_ptr<ProcessWatch> watch_;
  std::unique_ptr<device::LinuxTunBuilder> builder_;  // keeps the tun's resolv.conf
  bool lost_ = false;
};

NamespaceDevice::NamespaceDevice(const DirectOptions& options, relay::Relay& relay,
                                 io::EventLoop& loop) {
  // Checked before anything is made, so a wrong number fails at once.
  daemon::ReadyFd ready(options.ready_fd);
  const auto target = device::NetnsTarget::parse(options.netns);
  if (device::is_current_netns(target)) {
    throw std::runtime_error("--netns " + options.netns +
                             " is the relay's own network namespace: its host sockets would "
                             "route back into the tun");
  }
  namespace gnirehtet = wire::gnirehtet;
  builder_ = std::make_unique<device::LinuxTunBuilder>(device::TunDevice::kDefaultName,
                                                       options.netns);
  builder_->set_mtu(options.mtu);
  // The relay completes no checksum itself, nor does the kernel check ours
  // (device/packet_link.hpp).
  builder_->set_vnet_header(true);
  builder_->add_address(wire::IpPrefix{gnirehtet::kDeviceAddressV4, 32});
  builder_->add_address(
      wire::IpPrefix{gnirehtet::kDeviceAddressV6, daemon::kDeviceAddressV6Length});
  builder_->add_route(wire::IpPrefix{wire::IpAddress{wire::IpVersion::V4, {}}, 0});
  builder_->add_route(wire::IpPrefix{wire::IpAddress{wire::IpVersion::V6, {}}, 0});
  builder_->add_dns(gnirehtet::kDefaultDnsServer);
  // Watched from before the tun is made, so a process that exits meanwhile
  // is noticed too.
  if (auto pid = target_pid(options.netns)) watch_ = std::make_unique<ProcessWatch>(loop, *pid);
  io::Fd tun;
  std::vector<io::Fd> other_queues;
  io::Fd steering;
  std::string tun_name;
  if (geteuid() == 0) {
    // A queue per relay thread, when the kernel takes our steering program
    // (device/tun_steering.hpp).
    const auto threads = static_cast<int>(relay.thread_count());
    if (threads > 1) {
      if (auto program = device::load_tun_steering()) {
        steering = std::move(*program);
        builder_->set_queues(threads);
      } else {
        log::warn("tun steering program refused ({}): one tun queue, one thread for it",
                  program.error().message());
      }
    }
    builder_->establish();
    tun_name = builder_->tun().name();
    tun = builder_->release_tun();
    other_queues = builder_->release_other_queues();
    if (steering.valid()) {
      if (auto error = device::attach_tun_steering(tun.get(), steering.get()))
        throw std::runtime_error("cannot set the steering program of tun " + tun_name + ": " +
                                 error.message());
    }
  } else {
    tun = device::open_in_owning_user_namespace(target, [this] {
      builder_->establish();
      return builder_->release_tun();
    });
    tun_name = device::tun_name_of(tun.get());
  }
  auto on_closed = [this, &loop, tun_name, where = target.description()] {
    if (lost_) return;  // another queue's session said so already
    log::error("tun {} in {} failed: relay stopping", tun_name, where);
    lost_ = true;
    loop.stop();
  };
  if (other_queues.empty()) {
    relay.attach(std::make_unique<device::PacketLink>(std::move(tun)), on_closed);
  } else {
    const auto count = static_cast<std::uint16_t>(other_queues.size() + 1);
    std::vector<std::unique_ptr<relay::DeviceLink>> links;
    links.push_back(
        std::make_unique<device::PacketLink>(std::move(tun), relay::QueueSlot{0, count}));
    for (std::uint16_t queue = 1; queue < count; ++queue)
      links.push_back(std::make_unique<device::PacketLink>(std::move(other_queues[queue - 1]),
                                                           relay::QueueSlot{queue, count}));
    log::info("tun {}: {} queues, one per relay thread", tun_name, count);
    relay.attach_queues(std::move(links), on_closed);
  }
  ready.announce(tun_name);
}

}  // namespace

void add_direct_mode_options(CLI::App& command, OpenDirectDevice& open) {
  auto options = std::make_shared<DirectOptions>();
  auto* netns =
      command
          .add_option("--netns", options->netns,
                      "Direct mode: open the tun (rtether0, as `rtether client` sets it up) in "
                      "this network namespace and serve it with no client process: NAME "
                      "(/run/netns/NAME), a PATH to a namespace file, or a PID "
                      "(/proc/PID/ns/net). No TCP listener then (--unix still adds one)")
          ->type_name("NAME|PATH|PID")
          ->each([options, &open](const std::string&) {
            open = [options](relay::Relay& relay,
                             io::EventLoop& loop) -> std::unique_ptr<DirectDevice> {
              return std::make_unique<NamespaceDevice>(*options, relay, loop);
            };
          });
  netns->excludes(command.get_option("--port"));
  netns->excludes(command.get_option("--bind"));
  command
      .add_option("--mtu", options->mtu,
                  "Direct mode: the tun's MTU (the default, as the client's, is near the "
                  "65535-byte IP maximum: fewer, larger packets cost less per byte)")
      ->capture_default_str()
      ->check(CLI::Range(68, 65535))
      ->needs(netns);
  command
      .add_option("--ready-fd", options->ready_fd,
                  "Direct mode: write \"ready <tun>\\n\" to this inherited fd once the tun is "
                  "up, then close it (for a supervising process)")
      ->check(CLI::NonNegativeNumber)
      ->needs(netns);
}

}  // namespace rtether::cli
