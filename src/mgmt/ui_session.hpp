// UiSession: the UI side of the management protocol, behaving like the
// "OpenVPN for Android" app's management thread (ics-openvpn): it announces
// `version 3` (plus `bytecount 2` and `state on`, for a daemon that is not
// held); on >HOLD it sends `hold release`, `bytecount 2`, `state on`
// (unless paused); it answers every NEED-OK, collecting the address, routes
// and DNS into a TunConfig; PERSIST_TUN_ACTION keeps the current tun when
// the new configuration equals it (NOACTION) and opens a new one otherwise
// (OPEN_BEFORE_CLOSE); OPENTUN has the UiDevice build the tun and returns
// its fd with the answer; PROTECTFD has the UiDevice protect the socket
// that came with the line. Pure: lines in, command lines (with an optional
// descriptor) out; the descriptors it is given are closed once used.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/socket.hpp"
#include "mgmt/messages.hpp"
#include "wire/ip_address.hpp"
#include "wire/ip_prefix.hpp"

namespace rtether::mgmt {

// The tun a daemon described, as typed values: an IFCONFIG's local address
// with its prefix length (32 unless the topology is subnet, where the
// netmask counts), IFCONFIG6's ADDR/BITS, every ROUTE (NET + MASK) and
// ROUTE6 (NET/BITS) as a prefix (host bits kept as sent), every DNSSERVER
// and DNS6SERVER in the order asked.
struct TunConfig {
  std::optional<wire::IpPrefix> ipv4;
  std::optional<wire::IpPrefix> ipv6;
  int mtu = 1500;
  std::vector<wire::IpPrefix> routes;  // IPv4 and IPv6
  std::vector<wire::IpAddress> dns;
  std::string domain;
  friend bool operator==(const TunConfig&, const TunConfig&) = default;
};

// The VpnService side: what a UI does with the system.
class UiDevice {
 public:
  virtual ~UiDevice() = default;
  // Builds the tun; returns its fd (the UI keeps no other copy), or an
  // invalid fd with the reason in `error`.
  virtual io::Fd open_tun(const TunConfig& config, std::string& error) = 0;
  // Keeps the socket out of the tun's routes; `detail` says what was done.
  virtual bool protect(int fd, std::string& detail) = 0;
};

struct UiCommand {
  std::string line;  // ends with '\n'
  io::Fd fd;         // sent with the line (OPENTUN)
};

// What the UI shows its user.
struct UiEvent {
  enum class Kind { State, ByteCount, Hold, NeedOk, Fatal, Log, Info, Reply };
  Kind kind;
  std::string text;
};

class UiSession {
 public:
  UiSession(UiDevice& device, std::function<void(const UiEvent&)> show);

  std::vector<UiCommand> on_connect();
  // One line from the daemon and the descriptor that came with it, if any.
  std::vector<UiCommand> on_line(std::string_view line, io::Fd fd);

  // The user's buttons (ics-openvpn: pause = SIGUSR1 then wait in hold,
  // resume = hold release, disconnect = SIGINT).
  std::vector<UiCommand> pause();
  std::vector<UiCommand> resume();
  std::vector<UiCommand> stop();

  bool paused() const { return paused_; }
  bool failed() const { return failed_; }  // >FATAL seen or OPENTUN failed
  const std::optional<StateEntry>& state() const { return state_; }
  const std::optional<ByteCount>& bytes() const { return bytes_; }
  const std::optional<TunConfig>& current() const { return current_; }
  int tuns_opened() const { return tuns_opened_; }

 private:
  std::vector<UiCommand> answer_need_ok(const NeedOkRequest& request, io::Fd fd);
  static UiCommand command(std::string line, io::Fd fd = {});

  UiDevice& device_;
  std::function<void(const UiEvent&)> show_;
  TunConfig pending_;
  std::optional<TunConfig> current_;
  std::optional<StateEntry> state_;
  std::optional<ByteCount> bytes_;
  bool paused_ = false;
  bool in_hold_ = false;
  bool failed_ = false;
  int tuns_opened_ = 0;
};

}  // namespace rtether::mgmt
