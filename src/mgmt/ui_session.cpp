// The ics-openvpn-like UI logic; see ui_session.hpp.
#include "mgmt/ui_session.hpp"

#include <fmt/core.h>

#include "mgmt/line_reader.hpp"
#include "mgmt/tun_payloads.hpp"

namespace rtether::mgmt {
namespace {

// The device names ics-openvpn takes as the VPN's own
// (OpenVPNService.isAndroidTunDevice): OpenVPN's "tun..." and "(null)", and
// OpenVPN 3's "vpnservice-tun". OpenVPN's net_gateway is "android-gw".
bool is_tun_device(std::string_view device) {
  return device.substr(0, 3) == "tun" || device == "(null)" || device == "vpnservice-tun";
}

const wire::IpAddress kAllOnes = wire::IpAddress::v4(0xffffffffu);

}  // namespace

UiSession::UiSession(UiDevice& device, std::function<void(const UiEvent&)> show, UiProfile* profile)
    : device_(device), show_(std::move(show)), profile_(profile) {
  if (!show_) show_ = [](const UiEvent&) {};
}

UiCommand UiSession::command(std::string line, io::Fd fd) {
  line.push_back('\n');
  return UiCommand{std::move(line), std::move(fd)};
}

std::vector<UiCommand> UiSession::on_connect() {
  std::vector<UiCommand> out;
  out.push_back(command("version 3"));
  // ics-openvpn asks for these on >HOLD only, because it always starts the
  // daemon held; a daemon without --management-hold starts at once, and its
  // states would go unseen.
  out.push_back(command("bytecount 2"));
  out.push_back(command("state on"));
  return out;
}

std::vector<UiCommand> UiSession::pause() {
  std::vector<UiCommand> out;
  if (paused_) return out;
  paused_ = true;
  out.push_back(command("signal SIGUSR1"));
  return out;
}

std::vector<UiCommand> UiSession::resume() {
  std::vector<UiCommand> out;
  if (!paused_) return out;
  paused_ = false;
  if (in_hold_) {
    in_hold_ = false;
    out.push_back(command("hold release"));
  }
  return out;
}

std::vector<UiCommand> UiSession::stop() {
  std::vector<UiCommand> out;
  out.push_back(command("signal SIGINT"));
  return out;
}

std::vector<UiCommand> UiSession::on_line(std::string_view line, io::Fd fd) {
  std::vector<UiCommand> out;
  auto realtime = parse_realtime(line);
  if (!realtime) {
    // A reply: "PROTECTFD: fd 'N' sent to be protected" carries the link
    // socket after a network-change; everything else is shown.
    if (line.rfind("PROTECTFD: ", 0) == 0 && fd.valid()) {
      std::string detail;
      bool ok = device_.protect(fd.get(), detail);
      show_({UiEvent::Kind::Info, fmt::format("protect after network change: {}{}",
                                              ok ? "" : "failed: ", detail)});
      return out;
    }
    show_({UiEvent::Kind::Reply, std::string(line)});
    return out;
  }
  const auto& type = realtime->type;
  const auto& body = realtime->body;
  if (type == "HOLD") {
    show_({UiEvent::Kind::Hold, body});
    pending_ = TunConfig{};  // a restart: the daemon will describe the tun again
    if (paused_) {
      in_hold_ = true;
      return out;
    }
    out.push_back(command("hold release"));
    out.push_back(command("bytecount 2"));
    out.push_back(command("state on"));
  } else if (type == "NEED-OK") {
    auto request = parse_need_ok(body);
    if (!request) {
      show_({UiEvent::Kind::Info, "malformed NEED-OK line: " + std::string(line)});
      return out;
    }
    show_({UiEvent::Kind::NeedOk, request->type + " " + request->payload});
    return answer_need_ok(*request, std::move(fd));
  } else if (type == "STATE") {
    if (auto state = parse_state(body)) {
      state_ = *state;
      show_({UiEvent::Kind::State, body});
    }
  } else if (type == "BYTECOUNT") {
    if (auto bytes = parse_bytecount(body)) {
      bytes_ = *bytes;
      show_({UiEvent::Kind::ByteCount, body});
    }
  } else if (type == "FATAL") {
    failed_ = true;
    show_({UiEvent::Kind::Fatal, body});
  } else if (type == "LOG") {
    show_({UiEvent::Kind::Log, body});
  } else if (type == "PROXY") {
    return answer_proxy(body);
  } else if (type == "PASSWORD") {
    return answer_password(body);
  } else if (type == "PK_SIGN") {
    return answer_sign(body);
  } else {
    show_({UiEvent::Kind::Info, std::string(line)});
  }
  return out;
}

std::vector<UiCommand> UiSession::answer_need_ok(const NeedOkRequest& request, io::Fd fd) {
  std::vector<UiCommand> out;
  const std::string& type = request.type;
  auto reply = [&](const std::string& action, io::Fd with = {}) {
    out.push_back(command(fmt::format("needok {} {}", quote_argument(type), action), std::move(with)));
  };
  auto refuse = [&](const char* why) {
    show_({UiEvent::Kind::Info, fmt::format("refusing {} '{}': {}", type, request.payload, why)});
    reply("cancel");
  };
  if (type == "IFCONFIG") {
    // The first of a new configuration.
    pending_ = TunConfig{};
    auto payload = parse_ifconfig(request.payload);
    if (!payload) {
      refuse("bad payload");
      return out;
    }
    auto address = payload->address();
    if (!address) {
      refuse("bad netmask");
      return out;
    }
    pending_.ipv4 = address;
    pending_.mtu = payload->mtu;
    ifconfig_peer_ = payload->remote_or_netmask;
    reply("ok");
  } else if (type == "IFCONFIG6") {
    auto payload = parse_ifconfig6(request.payload);
    if (!payload) {
      refuse("bad payload");
      return out;
    }
    pending_.ipv6 = payload->address;
    reply("ok");
  } else if (type == "ROUTE") {
    auto payload = parse_route(request.payload);
    if (!payload) {
      refuse("bad payload");
      return out;
    }
    if (through_vpn(payload->gateway, payload->device)) {
      pending_.routes.push_back(payload->network);
    } else {
      show_({UiEvent::Kind::Info, "not through the VPN (net_gateway): " + request.payload});
      pending_.bypass_routes.push_back(payload->network);
    }
    reply("ok");
  } else if (type == "ROUTE6") {
    auto payload = parse_route6(request.payload);
    if (!payload) {
      refuse("bad payload");
      return out;
    }
    // Without a device (not OpenVPN's layout, which always names one) the
    // route is taken as the VPN's.
    if (payload->device.empty() || is_tun_device(payload->device)) {
      pending_.routes.push_back(payload->network);
    } else {
      show_({UiEvent::Kind::Info, "not through the VPN (net_gateway): " + request.payload});
      pending_.bypass_routes.push_back(payload->network);
    }
    reply("ok");
  } else if (type == "DNSSERVER" || type == "DNS6SERVER") {
    auto server = parse_dns_server(request.payload);
    if (!server) {
      refuse("bad payload");
      return out;
    }
    pending_.dns.push_back(*server);
    reply("ok");
  } else if (type == "DNSDOMAIN") {
    pending_.domain = request.payload;
    reply("ok");
  } else if (type == "HTTPPROXY") {
    // "HOST PORT" of a proxy pushed with dhcp-option PROXY_HTTP: ics-openvpn
    // takes it (it sets it as the VPN's HTTP proxy); so does this UI, which
    // has no system proxy to set, so it only shows it.
    reply("ok");
  } else if (type == "PERSIST_TUN_ACTION") {
    // As ics-openvpn: the same configuration keeps the tun it has.
    bool same = current_ && *current_ == pending_;
    reply(same ? "NOACTION" : "OPEN_BEFORE_CLOSE");
  } else if (type == "OPENTUN") {
    if (request.payload != "tun") {
      // A tap (or anything else) cannot be a VpnService device.
      failed_ = true;
      refuse("only a tun can be opened");
      pending_ = TunConfig{};
      return out;
    }
    std::string error;
    io::Fd tun = device_.open_tun(pending_, error);
    if (!tun.valid()) {
      failed_ = true;
      show_({UiEvent::Kind::Info, "cannot open the tun: " + error});
      reply("cancel");
    } else {
      current_ = pending_;
      ++tuns_opened_;
      reply("ok", std::move(tun));  // our copy is closed once sent
    }
    pending_ = TunConfig{};
  } else if (type == "PROTECTFD") {
    if (fd.valid()) {
      std::string detail;
      bool ok = device_.protect(fd.get(), detail);
      show_({UiEvent::Kind::Info, fmt::format("protect: {}{}", ok ? "" : "failed: ", detail)});
    } else {
      show_({UiEvent::Kind::Info, "PROTECTFD came without a descriptor"});
    }
    reply("ok");  // the descriptor is closed when `fd` goes
  } else {
    refuse("unknown NEED-OK type");
  }
  return out;
}

bool UiSession::through_vpn(const wire::IpAddress& gateway, std::string_view device) const {
  if (is_tun_device(device)) return true;
  if (pending_.ipv4 && pending_.ipv4->contains(gateway)) return true;
  return gateway == kAllOnes || (ifconfig_peer_ && gateway == *ifconfig_peer_);
}

std::vector<UiCommand> UiSession::give_up(const std::string& why) {
  failed_ = true;
  show_({UiEvent::Kind::Fatal, why});
  std::vector<UiCommand> out;
  out.push_back(command("signal SIGTERM"));
  return out;
}

std::vector<UiCommand> UiSession::answer_proxy(std::string_view body) {
  std::vector<UiCommand> out;
  auto query = parse_proxy_query(body);
  if (!query) {
    show_({UiEvent::Kind::Info, "malformed PROXY line: " + std::string(body)});
    return out;
  }
  std::optional<ProxySetting> configured;
  if (profile_) configured = profile_->proxy();
  if (!configured) {
    show_({UiEvent::Kind::Info, "connecting to " + query->host + " directly (proxy NONE)"});
    out.push_back(command("proxy NONE"));
    return out;
  }
  const ProxySetting& proxy = *configured;
  // OpenVPN takes an HTTP proxy for TCP only (init.c refuses it for UDP and
  // would then connect directly anyway): ics-openvpn says NONE for UDP.
  if (proxy.kind == ProxySetting::Kind::Http && query->udp) {
    show_({UiEvent::Kind::Info,
           "an HTTP proxy cannot carry UDP: connecting to " + query->host + " directly"});
    out.push_back(command("proxy NONE"));
    return out;
  }
  const char* kind = proxy.kind == ProxySetting::Kind::Http ? "HTTP" : "SOCKS";
  show_({UiEvent::Kind::Info,
         fmt::format("{} through {} proxy {} port {}", query->host, kind, proxy.host, proxy.port)});
  out.push_back(command(
      fmt::format("proxy {} {} {}", kind, quote_argument(proxy.host), quote_argument(proxy.port))));
  return out;
}

std::vector<UiCommand> UiSession::answer_password(std::string_view body) {
  std::vector<UiCommand> out;
  auto query = parse_password_query(body);
  if (!query) {
    // "Auth-Token:..." and the like: information, no answer wanted.
    show_({UiEvent::Kind::Info, "password: " + std::string(body)});
    return out;
  }
  if (query->kind == PasswordQuery::Kind::VerificationFailed) {
    if (profile_) profile_->credentials_refused(query->type);
    failed_ = true;
    show_({UiEvent::Kind::Fatal,
           fmt::format("the daemon refused the '{}' credentials{}{}", query->type,
                       query->extra.empty() ? "" : ": ", query->extra)});
    return out;
  }
  std::string error = "no profile to take them from";
  auto credentials = profile_ ? profile_->credentials(*query, error) : std::nullopt;
  if (!credentials) return give_up(fmt::format("cannot answer '{}': {}", query->type, error));
  show_({UiEvent::Kind::Info, fmt::format("'{}' {} given", query->type,
                                          query->wants_username ? "credentials" : "password")});
  std::string type = quote_argument(query->type);
  if (query->wants_username) {
    out.push_back(
        command(fmt::format("username {} {}", type, quote_argument(credentials->username))));
  }
  if (query->wants_password) {
    out.push_back(
        command(fmt::format("password {} {}", type, quote_argument(credentials->password))));
  }
  return out;
}

std::vector<UiCommand> UiSession::answer_sign(std::string_view body) {
  std::vector<UiCommand> out;
  std::string error;
  auto request = parse_sign_request(body, error);
  if (!request) return give_up("cannot sign for the daemon: " + error);
  error = "no external key given";
  auto signature = profile_ ? profile_->sign(*request, error) : std::nullopt;
  if (!signature) {
    return give_up(
        fmt::format("cannot sign for the daemon ({}): {}", request->algorithm.name, error));
  }
  show_({UiEvent::Kind::Info,
         fmt::format("signed {} bytes ({}{}{})", request->data.size(), request->algorithm.name,
                     request->algorithm.hash.empty() ? "" : " ", request->algorithm.hash)});
  for (auto& line : pk_sig_lines(*signature)) out.push_back(command(std::move(line)));
  return out;
}

}  // namespace rtether::mgmt
