// Relay: listeners, the session loops and the client session table; see
// relay.hpp.
#include "relay/relay.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <future>
#include <mutex>
#include <system_error>

#include "io/log.hpp"
#include "io/process_setup.hpp"
#include "relay/stream_link.hpp"

namespace rtether::relay {

Relay::Relay(io::EventLoop& loop, RelayConfig config)
    : loop_(loop),
      config_(std::move(config)),
      forwarder_(loop, [this](const ForwardRule& rule, std::uint32_t spread,
                              const std::function<void(ClientSession&)>& use) {
        return rule.serial.empty() ? with_session(rule.client_id, use, spread)
                                   : with_session_of_serial(rule.serial, use, spread);
      }) {
  const std::size_t threads = std::max<std::size_t>(config_.threads, 1);
  auto first = std::make_unique<Worker>();
  first->loop = &loop_;
  workers_.push_back(std::move(first));
  try {
    while (workers_.size() < threads) {
      auto worker = std::make_unique<Worker>();
      // Each loop is made, run and destroyed on its own thread: a poller
      // may keep per-thread state (the Windows one finds itself by thread).
      std::promise<io::EventLoop*> made;
      auto ready = made.get_future();
      worker->thread = std::thread([&made, busy_poll = loop_.busy_poll()] {
        io::prepare_worker_thread();
        std::unique_ptr<io::EventLoop> loop;
        try {
          loop = std::make_unique<io::EventLoop>();
          loop->set_busy_poll(busy_poll);
        } catch (...) {
          made.set_exception(std::current_exception());
          return;
        }
        made.set_value(loop.get());
        loop->run();
      });
      try {
        worker->loop = ready.get();
      } catch (...) {
        worker->thread.join();
        throw;
      }
      workers_.push_back(std::move(worker));
    }
  } catch (...) {
    stop_workers();
    throw;
  }
  if (threads > 1) log::debug("relay sessions on {} threads", threads);
}

Relay::~Relay() {
  listeners_.clear();
  *alive_ = false;
  for (auto& worker : workers_) {
    run_on(*worker, [&worker = *worker] {
      worker.stopping = true;
      worker.sessions.clear();
    });
  }
  stop_workers();
}

void Relay::stop_workers() {
  for (auto& worker : workers_) {
    if (!worker->thread.joinable()) continue;
    worker->loop->post([loop = worker->loop] { loop->stop(); });
    worker->thread.join();
  }
}

void Relay::run_on(Worker& worker, const std::function<void()>& work) const {
  if (worker.loop == &loop_) {
    work();
    return;
  }
  std::mutex mutex;
  std::condition_variable condition;
  bool done = false;
  std::exception_ptr error;
  worker.loop->post([&] {
    try {
      work();
    } catch (...) {
      error = std::current_exception();
    }
    // Told under the lock: the waiter's stack (these) may go once it sees.
    std::lock_guard lock(mutex);
    done = true;
    condition.notify_one();
  });
  std::unique_lock lock(mutex);
  condition.wait(lock, [&] { return done; });
  if (error) std::rethrow_exception(error);
}

void Relay::run_on_each(const std::function<void(Worker&)>& work) const {
  for (const auto& worker : workers_) run_on(*worker, [&] { work(*worker); });
}

void Relay::to_main(const Worker& from, std::function<void()> work) {
  if (from.loop == &loop_) {
    work();
    return;
  }
  loop_.post([alive = std::weak_ptr<bool>(alive_), work = std::move(work)] {
    if (auto relay = alive.lock(); relay && *relay) work();
  });
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
    connections_.try_emplace(device_label, 0);
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
    connections_.try_emplace(device_label, 0);
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
  run_on_each([id = *id](Worker& worker) {
    for (auto& [client, session] : worker.sessions) session->forwards().close_forward(id);
  });
  return true;
}

bool Relay::use_session(std::uint32_t id, const std::function<void(ClientSession&)>& use) {
  auto placed = placement_.find(id);
  if (placed == placement_.end()) return false;
  bool used = false;
  Worker& worker = *workers_[placed->second.worker];
  run_on(worker, [&] {
    // Gone meanwhile (its close is on its way to this loop), or still
    // owing its secret answer: nothing for it, forwards included.
    auto found = worker.sessions.find(id);
    if (found == worker.sessions.end() || !found->second->relaying()) return;
    use(*found->second);
    used = true;
  });
  return used;
}

bool Relay::use_device(std::uint32_t id, const std::function<void(ClientSession&)>& use,
                       std::uint32_t spread) {
  auto placed = placement_.find(id);
  if (placed == placement_.end()) return false;
  std::vector<std::uint32_t> queues;
  for (const auto& [other, where] : placement_)
    if (where.device == placed->second.device) queues.push_back(other);
  // The chosen queue's session, else (closing) the next one that is live.
  for (std::size_t step = 0; step < queues.size(); ++step)
    if (use_session(queues[(spread + step) % queues.size()], use)) return true;
  return false;
}

bool Relay::with_session(std::optional<std::uint32_t> client_id,
                         const std::function<void(ClientSession&)>& use, std::uint32_t spread) {
  if (client_id) return use_device(*client_id, use, spread);
  for (auto it = placement_.rbegin(); it != placement_.rend(); ++it)
    if (use_device(it->first, use, spread)) return true;
  return false;
}

bool Relay::with_session_of_serial(const std::string& serial,
                                   const std::function<void(ClientSession&)>& use,
                                   std::uint32_t spread) {
  for (auto it = placement_.rbegin(); it != placement_.rend(); ++it)
    if (it->second.serial == serial && use_device(it->first, use, spread)) return true;
  return false;
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
  run_on_each([&count](Worker& worker) {
    for (const auto& [id, session] : worker.sessions) count += session->relaying() ? 0 : 1;
  });
  return count;
}

void Relay::accept_from(const Listener& listener, io::Fd fd) {
  if (!config_.secret.empty() && unanswered_clients() >= config_.max_unanswered_clients) {
    ++refused_.secret_pending_limit;
    log::debug("client refused: {} clients still owe their secret answer",
               config_.max_unanswered_clients);
    return;  // fd closes here
  }
  add_session(std::make_unique<StreamLink>(std::move(fd)), nullptr, listener.device_label());
}

void Relay::attach(std::unique_ptr<DeviceLink> link, std::function<void()> on_closed) {
  add_session(std::move(link), std::move(on_closed));
}

void Relay::attach_queues(std::vector<std::unique_ptr<DeviceLink>> links,
                          std::function<void()> on_closed) {
  const std::uint32_t device = next_id_;
  for (std::size_t queue = 0; queue < links.size(); ++queue)
    add_session(std::move(links[queue]), on_closed, {}, queue % workers_.size(), device);
}

std::size_t Relay::pick_worker() {
  std::vector<std::size_t> load(workers_.size(), 0);
  for (const auto& [id, placed] : placement_) ++load[placed.worker];
  std::size_t best = next_worker_ % workers_.size();
  for (std::size_t step = 1; step < workers_.size(); ++step) {
    std::size_t candidate = (next_worker_ + step) % workers_.size();
    if (load[candidate] < load[best]) best = candidate;
  }
  next_worker_ = best + 1;
  return best;
}

void Relay::add_session(std::unique_ptr<DeviceLink> link, std::function<void()> on_closed,
                        const std::string& device_label,
                        std::optional<std::size_t> worker_index,
                        std::optional<std::uint32_t> device) {
  std::uint32_t id = next_id_++;
  const std::size_t index = worker_index ? *worker_index : pick_worker();
  Worker& worker = *workers_[index];
  const std::uint32_t device_id = device.value_or(id);
  placement_.emplace(id, Placement{index, device_label, device_id});
  if (const QueueSlot queue = link->queue(); queue.count > 1) {
    log::info("client {} connected (queue {} of {}{})", id, queue.index + 1, queue.count,
              device_id == id ? std::string() : fmt::format(", with client {}", device_id));
  } else if (device_label.empty()) {
    log::info("client {} connected", id);
  } else {
    std::uint64_t& connections = connections_[device_label];
    ++connections;
    log::info("client {} connected (device {}{})", id, device_label,
              connections > 1 ? fmt::format(", reconnect {}", connections - 1) : std::string());
  }
  // Made and started on its own loop's thread, which owns it from now on.
  auto start = [this, &worker, id, device_label, on_closed = std::move(on_closed),
                link = std::make_shared<std::unique_ptr<DeviceLink>>(std::move(link))] {
    // The session's callback runs from a deferred copy, so it may destroy
    // the session that held it.
    auto session = std::make_unique<ClientSession>(
        *worker.loop, std::move(*link), id, config_,
        [this, &worker, on_closed](std::uint32_t closed) {
          on_session_closed(worker, closed, on_closed);
        },
        device_label);
    auto* raw = session.get();
    worker.sessions.emplace(id, std::move(session));
    raw->start();
  };
  if (worker.loop == &loop_)
    start();
  else
    worker.loop->post(std::move(start));
}

void Relay::on_session_closed(Worker& worker, std::uint32_t id,
                              const std::function<void()>& then) {
  auto found = worker.sessions.find(id);
  if (found == worker.sessions.end()) return;
  worker.closed += found->second->counters();
  if (const std::string& serial = found->second->serial(); !serial.empty())
    worker.closed_by_serial[serial] += found->second->counters();
  worker.sessions.erase(found);
  if (worker.stopping) return;
  to_main(worker, [this, id, then] {
    placement_.erase(id);
    if (then) then();
  });
}

std::vector<std::size_t> Relay::sessions_per_thread() const {
  std::vector<std::size_t> load(workers_.size(), 0);
  for (const auto& [id, placed] : placement_) ++load[placed.worker];
  return load;
}

std::size_t Relay::flow_count() const {
  std::size_t count = 0;
  run_on_each([&count](Worker& worker) {
    for (const auto& [id, session] : worker.sessions) count += session->flow_count();
  });
  return count;
}

Counters Relay::totals() const {
  Counters totals = refused_;
  totals += forwarder_.counters();
  run_on_each([&totals](Worker& worker) {
    totals += worker.closed;
    for (const auto& [id, session] : worker.sessions) totals += session->counters();
  });
  return totals;
}

std::vector<ClientStats> Relay::client_stats() const {
  std::map<std::uint32_t, ClientStats> by_id;
  run_on_each([&by_id](Worker& worker) {
    for (const auto& [id, session] : worker.sessions) {
      const Counters& counters = session->counters();
      by_id.emplace(id, ClientStats{id, session->serial(), 0, session->queue(),
                                    session->live_flow_count(), counters.bytes_from_device,
                                    counters.bytes_to_device, counters.packets_from_device,
                                    counters.packets_to_device, counters});
    }
  });
  std::vector<ClientStats> stats;
  stats.reserve(by_id.size());
  for (auto& [id, client] : by_id) {
    if (auto placed = placement_.find(id); placed != placement_.end())
      client.thread = placed->second.worker;
    stats.push_back(std::move(client));
  }
  return stats;
}

std::vector<DeviceStats> Relay::device_stats() const {
  std::map<std::string, DeviceStats> by_serial;
  for (const auto& [serial, connections] : connections_) {
    DeviceStats& device = by_serial[serial];
    device.serial = serial;
    device.connections = connections;
    device.reconnects = connections > 0 ? connections - 1 : 0;
  }
  // What each loop has: counters of gone clients, and its live sessions.
  struct Live {
    std::string serial;
    std::size_t open_flows = 0;
    bool relaying = false;
  };
  std::map<std::uint32_t, Live> live;
  run_on_each([&](Worker& worker) {
    for (const auto& [serial, closed] : worker.closed_by_serial) {
      DeviceStats& device = by_serial[serial];
      device.serial = serial;
      device.counters += closed;
    }
    for (const auto& [id, session] : worker.sessions) {
      if (session->serial().empty()) continue;
      DeviceStats& device = by_serial[session->serial()];
      device.serial = session->serial();
      device.counters += session->counters();
      live[id] = Live{session->serial(), session->live_flow_count(), session->relaying()};
    }
  });
  // Sessions by id, so the last one seen is the most recent client.
  for (const auto& [id, session] : live) {
    DeviceStats& device = by_serial[session.serial];
    device.open_flows += session.open_flows;
    if (session.relaying) {
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
