// The ics-openvpn-like UI logic; see ui_session.hpp.
#include "mgmt/ui_session.hpp"

#include <fmt/core.h>

#include "mgmt/line_reader.hpp"
#include "mgmt/tun_payloads.hpp"

namespace rtether::mgmt {

UiSession::UiSession(UiDevice& device, std::function<void(const UiEvent&)> show)
    : device_(device), show_(std::move(show)) {
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
    pending_.routes.push_back(payload->network);
    reply("ok");
  } else if (type == "ROUTE6") {
    auto payload = parse_route6(request.payload);
    if (!payload) {
      refuse("bad payload");
      return out;
    }
    pending_.routes.push_back(payload->network);
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
  } else if (type == "PERSIST_TUN_ACTION") {
    // As ics-openvpn: the same configuration keeps the tun it has.
    bool same = current_ && *current_ == pending_;
    reply(same ? "NOACTION" : "OPEN_BEFORE_CLOSE");
  } else if (type == "OPENTUN") {
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

}  // namespace rtether::mgmt
