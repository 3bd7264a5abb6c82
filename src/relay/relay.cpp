// Relay: listeners and the client session table; see relay.hpp.
#include "relay/relay.hpp"

#include "io/log.hpp"

namespace rtether::relay {

Relay::Relay(io::EventLoop& loop, RelayConfig config)
    : loop_(loop),
      config_(std::move(config)),
      forwarder_(loop, [this](std::optional<std::uint32_t> id) { return session_for(id); }) {}

Relay::~Relay() {
  for (auto& listener : listeners_) listener->stop_watching();
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

namespace {
constexpr std::chrono::milliseconds kAcceptPause{100};
}  // namespace

Relay::Listener::Listener(Relay& relay, io::Fd fd)
    : relay_(relay), fd_(std::move(fd)), resume_timer_(relay.loop_, [this] { resume(); }) {}

void Relay::Listener::on_ready(io::Readiness) { relay_.accept_from(*this); }

void Relay::Listener::pause_after(const std::error_code& error) {
  if (failed_tries_++ == 0)
    log::warn("accept failed: {}; retrying every {} ms", error.message(), kAcceptPause.count());
  stop_watching();
  resume_timer_.arm(relay_.loop_.now() + kAcceptPause);
}

void Relay::Listener::stop_watching() {
  if (watching_) relay_.loop_.remove(fd_.get());
  watching_ = false;
}

void Relay::Listener::resume() {
  relay_.loop_.add(fd_.get(), io::Interest::Read, io::Trigger::Level, this);
  watching_ = true;
  // Whatever is queued is tried at once; a success ends the streak.
  const std::uint64_t before = failed_tries_;
  relay_.accept_from(*this);
  if (failed_tries_ == before && before > 0) {
    log::info("accepting again after {} failed tries", before);
    failed_tries_ = 0;
  }
}

std::size_t Relay::unanswered_clients() const {
  std::size_t count = 0;
  for (const auto& [id, session] : sessions_) count += session->relaying() ? 0 : 1;
  return count;
}

void Relay::accept_from(Listener& listener) {
  auto error = io::accept_pending(listener.fd(), [this](io::Fd fd) {
    if (!config_.secret.empty() && unanswered_clients() >= config_.max_unanswered_clients) {
      ++closed_totals_.secret_pending_limit;
      log::debug("client refused: {} clients still owe their secret answer",
                 config_.max_unanswered_clients);
      return;  // fd closes here
    }
    std::uint32_t id = next_id_++;
    auto session = std::make_unique<ClientSession>(
        loop_, std::move(fd), id, config_, [this](std::uint32_t closed) { on_session_closed(closed); });
    auto* raw = session.get();
    sessions_.emplace(id, std::move(session));
    log::info("client {} connected", id);
    raw->start();
  });
  if (error) listener.pause_after(error);
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
