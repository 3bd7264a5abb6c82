// Relay: listeners and the client session table; see relay.hpp.
#include "relay/relay.hpp"

#include <fmt/core.h>

#include "io/log.hpp"
#include "relay/stream_link.hpp"

namespace rtether::relay {

Relay::Relay(io::EventLoop& loop, RelayConfig config)
    : loop_(loop),
      config_(std::move(config)),
      forwarder_(loop, [this](const ForwardRule& rule) {
        return rule.serial.empty() ? session_for(rule.client_id) : session_for_serial(rule.serial);
      }) {}

Relay::~Relay() {
  listeners_.clear();
  sessions_.clear();
}

io::Endpoint Relay::listen_tcp(const io::Endpoint& at, std::string device_label) {
  io::Fd fd = io::listen_tcp(at);
  io::Endpoint bound = at;
  if (auto local = io::local_endpoint(fd.get())) bound = *local;
  if (device_label.empty()) {
    log::info("relay listening on {}:{}", bound.address.to_string(), bound.port);
  } else {
    log::info("relay listening on {}:{} for device {}", bound.address.to_string(), bound.port,
              device_label);
    devices_.try_emplace(device_label);
  }
  auto listener = std::make_unique<Listener>(*this, std::move(fd), std::move(device_label));
  listeners_.push_back(std::move(listener));
  return bound;
}

void Relay::label_listener(std::uint16_t port, const std::string& device_label) {
  for (auto& listener : listeners_) {
    auto local = io::local_endpoint(listener->fd());
    if (!local || local->port != port || !listener->device_label().empty()) continue;
    listener->set_device_label(device_label);
    devices_.try_emplace(device_label);
    log::info("relay listening on {}:{} for device {}", local->address.to_string(), port,
              device_label);
  }
}

void Relay::listen_unix(const std::string& path) {
  auto listener = std::make_unique<Listener>(*this, io::listen_unix(path), std::string());
  log::info("relay listening on unix:{}", path);
  listeners_.push_back(std::move(listener));
}

void Relay::add_forward(const ForwardRule& rule) { forwarder_.add(rule); }

bool Relay::remove_forward(const ForwardRule& rule) {
  auto id = forwarder_.remove(rule);
  if (!id) return false;
  for (auto& [client, session] : sessions_) session->forwards().close_forward(*id);
  return true;
}

ClientSession* Relay::session_for(std::optional<std::uint32_t> client_id) {
  // A client still owing its secret answer gets nothing, forwards included.
  if (client_id) {
    auto found = sessions_.find(*client_id);
    return found == sessions_.end() || !found->second->relaying() ? nullptr
                                                                   : found->second.get();
  }
  for (auto it = sessions_.rbegin(); it != sessions_.rend(); ++it)
    if (it->second->relaying()) return it->second.get();
  return nullptr;
}

ClientSession* Relay::session_for_serial(const std::string& serial) {
  for (auto it = sessions_.rbegin(); it != sessions_.rend(); ++it)
    if (it->second->serial() == serial && it->second->relaying()) return it->second.get();
  return nullptr;
}

Relay::Listener::Listener(Relay& relay, io::Fd fd, std::string device_label)
    : fd_(std::move(fd)),
      device_label_(std::move(device_label)),
      accept_(relay.loop_, "relay", [this, &relay](io::Fd accepted) {
        relay.accept_from(*this, std::move(accepted));
      }) {
  accept_.watch(fd_.get(), this);
}

void Relay::Listener::on_ready(io::Readiness) { accept_.accept(); }

std::size_t Relay::unanswered_clients() const {
  std::size_t count = 0;
  for (const auto& [id, session] : sessions_) count += session->relaying() ? 0 : 1;
  return count;
}

void Relay::accept_from(const Listener& listener, io::Fd fd) {
  if (!config_.secret.empty() && unanswered_clients() >= config_.max_unanswered_clients) {
    ++closed_totals_.secret_pending_limit;
    log::debug("client refused: {} clients still owe their secret answer",
               config_.max_unanswered_clients);
    return;  // fd closes here
  }
  add_session(std::make_unique<StreamLink>(std::move(fd)),
              [this](std::uint32_t closed) { on_session_closed(closed); }, listener.device_label());
}

void Relay::attach(std::unique_ptr<DeviceLink> link, std::function<void()> on_closed) {
  // The session's callback runs from a deferred copy, so it may destroy the
  // session that held it.
  add_session(std::move(link), [this, on_closed = std::move(on_closed)](std::uint32_t closed) {
    on_session_closed(closed);
    on_closed();
  });
}

void Relay::add_session(std::unique_ptr<DeviceLink> link, ClientSession::ClosedCallback on_closed,
                        const std::string& device_label) {
  std::uint32_t id = next_id_++;
  auto session = std::make_unique<ClientSession>(loop_, std::move(link), id, config_,
                                                 std::move(on_closed), device_label);
  auto* raw = session.get();
  sessions_.emplace(id, std::move(session));
  if (device_label.empty()) {
    log::info("client {} connected", id);
  } else {
    DeviceRecord& device = devices_[device_label];
    ++device.connections;
    log::info("client {} connected (device {}{})", id, device_label,
              device.connections > 1 ? fmt::format(", reconnect {}", device.connections - 1)
                                     : std::string());
  }
  raw->start();
}

void Relay::on_session_closed(std::uint32_t id) {
  auto found = sessions_.find(id);
  if (found == sessions_.end()) return;
  closed_totals_ += found->second->counters();
  if (const std::string& serial = found->second->serial(); !serial.empty())
    devices_[serial].closed += found->second->counters();
  sessions_.erase(found);
}

std::size_t Relay::flow_count() const {
  std::size_t count = 0;
  for (const auto& [id, session] : sessions_) count += session->flow_count();
  return count;
}

Counters Relay::totals() const {
  Counters totals = closed_totals_;
  totals += forwarder_.counters();
  for (const auto& [id, session] : sessions_) totals += session->counters();
  return totals;
}

std::vector<ClientStats> Relay::client_stats() const {
  std::vector<ClientStats> stats;
  stats.reserve(sessions_.size());
  for (const auto& [id, session] : sessions_) {
    const Counters& counters = session->counters();
    stats.push_back(ClientStats{id, session->serial(), session->live_flow_count(),
                                counters.bytes_from_device, counters.bytes_to_device,
                                counters.packets_from_device, counters.packets_to_device,
                                counters});
  }
  return stats;
}

std::vector<DeviceStats> Relay::device_stats() const {
  std::map<std::string, DeviceStats> by_serial;
  for (const auto& [serial, record] : devices_) {
    DeviceStats& device = by_serial[serial];
    device.serial = serial;
    device.connections = record.connections;
    device.reconnects = record.connections > 0 ? record.connections - 1 : 0;
    device.counters = record.closed;
  }
  // Sessions by id, so the last one seen is the most recent client.
  for (const auto& [id, session] : sessions_) {
    if (session->serial().empty()) continue;
    DeviceStats& device = by_serial[session->serial()];
    device.counters += session->counters();
    device.open_flows += session->live_flow_count();
    if (session->relaying()) {
      device.connected = true;
      device.client_id = id;
    }
  }
  std::vector<DeviceStats> stats;
  stats.reserve(by_serial.size());
  for (auto& [serial, device] : by_serial) stats.push_back(std::move(device));
  return stats;
}

}  // namespace rtether::relay
