// The ics-openvpn-like UI logic; see ui_session.hpp.
#include "mgmt/ui_session.hpp"

#include <bit>
#include <sstream>

#include <fmt/core.h>

#include "mgmt/line_reader.hpp"

namespace rtether::mgmt {
namespace {

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream stream{std::string(text)};
  std::string word;
  while (stream >> word) out.push_back(word);
  return out;
}

// "255.255.255.0" -> 24; nullopt unless a contiguous IPv4 netmask.
std::optional<int> netmask_length(const std::string& mask) {
  wire::IpAddress address;
  if (!wire::IpAddress::parse(mask, address) || address.version != wire::IpVersion::V4) {
    return std::nullopt;
  }
  std::uint32_t bits = address.v4_host_order();
  int length = std::popcount(bits);
  if (length != 32 && (bits << length) != 0) return std::nullopt;
  if (length > 0 && (bits >> (32 - length)) != (0xffffffffu >> (32 - length))) return std::nullopt;
  return length;
}

std::optional<wire::IpAddress> address_of(const std::string& text, wire::IpVersion version) {
  wire::IpAddress address;
  if (!wire::IpAddress::parse(text, address) || address.version != version) return std::nullopt;
  return address;
}

// "NET/BITS" (the slash is required: OpenVPN always sends it).
std::optional<wire::IpPrefix> prefix_of(const std::string& text) {
  if (text.find('/') == std::string::npos) return std::nullopt;
  std::string error;
  return wire::parse_prefix(text, error);
}

bool parse_int(const std::string& text, int& out) {
  try {
    std::size_t used = 0;
    out = std::stoi(text, &used);
    return used == text.size();
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

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
  auto parts = words(request.payload);
  auto refuse = [&](const char* why) {
    show_({UiEvent::Kind::Info, fmt::format("refusing {} '{}': {}", type, request.payload, why)});
    reply("cancel");
  };
  if (type == "IFCONFIG") {
    // LOCAL REMOTE_OR_NETMASK MTU TOPOLOGY; the first of a new configuration.
    pending_ = TunConfig{};
    auto local = parts.size() >= 3 ? address_of(parts[0], wire::IpVersion::V4) : std::nullopt;
    if (!local || !parse_int(parts[2], pending_.mtu)) {
      refuse("bad payload");
      return out;
    }
    wire::IpPrefix address{*local, 32};
    if (parts.size() > 3 && parts[3] == "subnet") {
      auto length = netmask_length(parts[1]);
      if (!length) {
        refuse("bad netmask");
        return out;
      }
      address.length = *length;
    }
    pending_.ipv4 = address;
    reply("ok");
  } else if (type == "IFCONFIG6") {
    // ADDR/BITS MTU
    auto address = parts.empty() ? std::nullopt : prefix_of(parts[0]);
    if (!address || address->address.version != wire::IpVersion::V6) {
      refuse("bad payload");
      return out;
    }
    pending_.ipv6 = address;
    reply("ok");
  } else if (type == "ROUTE") {
    // NET MASK GW [dev IFACE]
    auto network = parts.size() >= 2 ? address_of(parts[0], wire::IpVersion::V4) : std::nullopt;
    std::optional<int> length = network ? netmask_length(parts[1]) : std::nullopt;
    if (!length) {
      refuse("bad payload");
      return out;
    }
    pending_.routes.push_back(wire::IpPrefix{*network, *length});
    reply("ok");
  } else if (type == "ROUTE6") {
    // NET/BITS DEVICE
    auto route = parts.empty() ? std::nullopt : prefix_of(parts[0]);
    if (!route) {
      refuse("bad payload");
      return out;
    }
    pending_.routes.push_back(*route);
    reply("ok");
  } else if (type == "DNSSERVER" || type == "DNS6SERVER") {
    wire::IpAddress server;
    if (parts.size() != 1 || !wire::IpAddress::parse(parts[0], server)) {
      refuse("bad payload");
      return out;
    }
    pending_.dns.push_back(server);
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
