// Direct mode of `rtether relay`: `--netns NAME|PATH|PID` makes the relay
// open the tun inside that network namespace itself (entering it only for
// the tun's creation and configuration), configured as `rtether client`
// configures its own, and serve it as a device on a packet link: no client
// process, no stream, no framing. Linux only (cli/linux/direct_mode.cpp);
// on Windows the option is refused with that reason.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>

#include "io/event_loop.hpp"
#include "relay/relay.hpp"

namespace rtether::cli {

// The device a direct-mode relay serves: its tun and resolv.conf live as
// long as this object.
class DirectDevice {
 public:
  virtual ~DirectDevice() = default;
  // The device's session ended (its tun failed): the relay stopped for it.
  virtual bool lost() const = 0;
};

// Opens the device, attaches it to `relay` and stops `loop` if it is lost.
// Throws std::runtime_error with the reason if the tun cannot be made.
using OpenDirectDevice =
    std::function<std::unique_ptr<DirectDevice>(relay::Relay& relay, io::EventLoop& loop)>;

// Adds --netns and the options that go with it to the relay command (after
// its -p and --bind). `open` is set once --netns is parsed; the relay then
// listens on TCP no more (-p/--bind are refused beside it), --unix still
// adds a listener.
void add_direct_mode_options(CLI::App& command, OpenDirectDevice& open);

}  // namespace rtether::cli
