// UiSession: the UI side of the management protocol, behaving like the
// "OpenVPN for Android" app's management thread (ics-openvpn): it announces
// `version 3` (plus `bytecount 2` and `state on`, for a daemon that is not
// held); on >HOLD it sends `hold release`, `bytecount 2`, `state on`
// (unless paused); it answers every NEED-OK, collecting the address, routes
// and DNS into a TunConfig; PERSIST_TUN_ACTION keeps the current tun when
// the new configuration equals it (NOACTION) and opens a new one otherwise
// (OPEN_BEFORE_CLOSE); OPENTUN (payload `tun` only) has the UiDevice build
// the tun and returns its fd with the answer; PROTECTFD has the UiDevice
// protect the socket that came with the line; HTTPPROXY is taken (ok).
// A ROUTE or ROUTE6 that OpenVPN marks as not the VPN's (net_gateway: its
// Android stand-in gateway 127.100.103.119 on `dev android-gw`) is kept
// apart as a bypass route, never put on the tun, by ics-openvpn's rule
// (OpenVPNService.addRoute: the VPN's own routes have a tun device, or a
// gateway in the tun's network or equal to IFCONFIG's peer).
// >PROXY, >PASSWORD and >PK_SIGN are answered from the UiProfile.
// Pure: lines in, command lines (with an optional descriptor) out; the
// descriptors it is given are closed once used.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/socket.hpp"
#include "mgmt/messages.hpp"
#include "mgmt/ui_profile.hpp"
#include "wire/ip_address.hpp"
#include "wire/ip_prefix.hpp"

namespace rtether::mgmt {

// The tun a daemon described, as typed values: an IFCONFIG's local address
// with its prefix length (32 unless the topology is subnet, where the
// netmask counts; net30 a /30 and p2p a /31 when the peer is in it, as
// ics-openvpn takes them), IFCONFIG6's ADDR/BITS, every ROUTE (NET + MASK)
// and ROUTE6 (NET/BITS) through the VPN as a prefix (host bits kept as
// sent), the net_gateway ones apart, every DNSSERVER and DNS6SERVER in the
// order asked.
struct TunConfig {
  std::optional<wire::IpPrefix> ipv4;
  std::optional<wire::IpPrefix> ipv6;
  int mtu = 1500;
  std::vector<wire::IpPrefix> routes;  // IPv4 and IPv6
  // Routes that must not go through the tun (net_gateway): the device
  // routes them around it where a tun route would catch them.
  std::vector<wire::IpPrefix> bypass_routes;
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
  // `profile` may be null: then every >PROXY is `proxy NONE`, and a
  // >PASSWORD or >PK_SIGN stops the daemon (nothing to answer it with).
  UiSession(UiDevice& device, std::function<void(const UiEvent&)> show,
            UiProfile* profile = nullptr);

  std::vector<UiCommand> on_connect();
  // One line from the daemon and the descriptor that came with it, if any.
  std::vector<UiCommand> on_line(std::string_view line, io::Fd fd);

  // The user's buttons (ics-openvpn: pause = SIGUSR1 then wait in hold,
  // resume = hold release, disconnect = SIGINT).
  std::vector<UiCommand> pause();
  std::vector<UiCommand> resume();
  std::vector<UiCommand> stop();

  bool paused() const { return paused_; }
  // >FATAL seen, OPENTUN failed, or a query the UI could not answer.
  bool failed() const { return failed_; }
  const std::optional<StateEntry>& state() const { return state_; }
  const std::optional<ByteCount>& bytes() const { return bytes_; }
  const std::optional<TunConfig>& current() const { return current_; }
  int tuns_opened() const { return tuns_opened_; }

 private:
  std::vector<UiCommand> answer_need_ok(const NeedOkRequest& request, io::Fd fd);
  std::vector<UiCommand> answer_proxy(std::string_view body);
  std::vector<UiCommand> answer_password(std::string_view body);
  std::vector<UiCommand> answer_sign(std::string_view body);
  // A query nothing can answer: say why and stop the daemon, which would
  // otherwise wait for the answer forever.
  std::vector<UiCommand> give_up(const std::string& why);
  bool through_vpn(const wire::IpAddress& gateway, std::string_view device) const;
  static UiCommand command(std::string line, io::Fd fd = {});

  UiDevice& device_;
  std::function<void(const UiEvent&)> show_;
  UiProfile* profile_;
  TunConfig pending_;
  // IFCONFIG's second field (the peer, or the netmask in subnet topology):
  // a ROUTE through it is the VPN's.
  std::optional<wire::IpAddress> ifconfig_peer_;
  std::optional<TunConfig> current_;
  std::optional<StateEntry> state_;
  std::optional<ByteCount> bytes_;
  bool paused_ = false;
  bool in_hold_ = false;
  bool failed_ = false;
  int tuns_opened_ = 0;
};

}  // namespace rtether::mgmt
