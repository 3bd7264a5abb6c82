// Relay: listeners and the client session table; see relay.hpp.
#include "relay/relay.hpp"

#include "io/log.hpp"
#include "relay/stream_link.hpp"

namespace rtether::relay {

Relay::Relay(io::EventLoop& loop, RelayConfig config)
    : loop_(loop),
      config_(std::move(config)),
      forwarder_(loop, [this](std::optional<std::uint32_t> id) { return session_for(id); }) {}

Relay::~Relay() {
  for (auto& listener : listeners_) loop_.remove(listener->fd());
  sessions_.clear();
}

void Relay::listen_tcp(const io::Endpoint& at) {
  auto listener = std::make_unique<Listener>(*this, io::listen_tcp(at));
  loop_.add(listener->fd(), io::Interest::Read, io::Trigger::Level, listener.get());
  log::info("relay listening on {}:{}", at.address.to_string(), at.port);
  listeners_.push_back(std::move(listener));
}

void Relay::listen_unix(const std::string& path) {
  auto listener = std::make_unique<Listener>(*this, io::listen_unix(path));
  loop_.add(listener->fd(), io::Interest::Read, io::Trigger::Level, listener.get());
  log::info("relay listening on unix:{}", path);
  listeners_.push_back(std::move(listener));
}

void Relay::add_forward(const ForwardRule& rule) { forwarder_.add(rule); }

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

void Relay::Listener::on_ready(io::Readiness) { relay_.accept_from(fd_.get()); }

void Relay::accept_from(int listen_fd) {
  auto error = io::accept_pending(listen_fd, [this](io::Fd fd) {
    add_session(std::make_unique<StreamLink>(std::move(fd)),
                [this](std::uint32_t closed) { on_session_closed(closed); });
  });
  if (error) log::warn("accept failed: {}", error.message());
}

void Relay::attach(std::unique_ptr<DeviceLink> link, std::function<void()> on_closed) {
  // The session's callback runs from a deferred copy, so it may destroy the
  // session that held it.
  add_session(std::move(link), [this, on_closed = std::move(on_closed)](std::uint32_t closed) {
    on_session_closed(closed);
    on_closed();
  });
}

void Relay::add_session(std::unique_ptr<DeviceLink> link,
                        ClientSession::ClosedCallback on_closed) {
  std::uint32_t id = next_id_++;
  auto session =
      std::make_unique<ClientSession>(loop_, std::move(link), id, config_, std::move(on_closed));
  auto* raw = session.get();
  sessions_.emplace(id, std::move(session));
  log::info("client {} connected", id);
  raw->start();
}

void Relay::on_session_closed(std::uint32_t id) {
  auto found = sessions_.find(id);
  if (found == sessions_.end()) return;
  closed_totals_ += found->second->counters();
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
    stats.push_back(ClientStats{id, session->live_flow_count(), counters.bytes_from_device,
                                counters.bytes_to_device, counters.packets_from_device,
                                counters.packets_to_device});
  }
  return stats;
}

}  // namespace rtether::relay
