// PortForwarder: listeners for --forward rules; see port_forwarder.hpp.
#include "relay/port_forwarder.hpp"

#include <algorithm>
#include <deque>
#include <stdexcept>
#include <vector>

#include <fmt/core.h>

#include "io/accept_pause.hpp"
#include "io/datagram.hpp"
#include "io/log.hpp"
#include "relay/client_session.hpp"
#include "wire/ip_packet.hpp"

namespace rtether::relay {

namespace {
// Datagrams per wake-up, so a storm cannot starve packet work.
constexpr int kDatagramBudget = 64;
// Host peers remembered per UDP forward (for datagrams that reach the
// listening socket before the peer's own socket exists); cleared when full.
constexpr std::size_t kMaxRememberedPeers = 4096;
constexpr std::size_t kMaxDatagram = 65535;
// Datagrams held at once that new peer sockets caught before connect().
constexpr std::size_t kMaxStrays = 1024;

struct EndpointHash {
  std::size_t operator()(const io::Endpoint& endpoint) const noexcept {
    std::size_t hash = endpoint.port;
    for (auto byte : endpoint.address.bytes) hash = hash * 131 + byte;
    return hash;
  }
};
struct EndpointEqual {
  bool operator()(const io::Endpoint& a, const io::Endpoint& b) const noexcept {
    return a.port == b.port && a.address == b.address;
  }
};
}  // namespace

class PortForwarder::Listener : public io::Handler {
 public:
  Listener(PortForwarder& owner, const ForwardRule& rule, std::uint32_t id, io::Fd fd)
      : owner_(owner), rule_(rule), id_(id), fd_(std::move(fd)) {}
  const ForwardRule& rule() const { return rule_; }
  std::uint32_t id() const { return id_; }
  int fd() const { return fd_.get(); }
  // Into the loop, and out of it again for good.
  virtual void watch() {
    owner_.loop_.add(fd_.get(), io::Interest::Read, io::Trigger::Level, this);
  }
  virtual void stop_watching() { owner_.loop_.remove(fd_.get()); }
  // Out of the loop and the port closed now; the object itself lives on
  // until the batch ends (events already fetched for it then find no fd).
  void close() {
    stop_watching();
    fd_.reset();
  }

 protected:
  // `use` with the rule's session, on its loop; false (counted) with none.
  bool with_session(std::uint32_t spread, const std::function<void(ClientSession&)>& use) {
    if (owner_.find_session_(rule_, spread, use)) return true;
    ++owner_.counters_.drop_forward_no_client;
    return false;
  }

  PortForwarder& owner_;
  ForwardRule rule_;
  std::uint32_t id_;
  io::Fd fd_;
};

class PortForwarder::TcpListener final : public Listener {
 public:
  using Listener::Listener;
  void watch() override { accept_.watch(fd_.get(), this); }
  void stop_watching() override { accept_.stop(); }
  void on_ready(io::Readiness) override {
    if (fd_.valid()) accept_.accept();
  }

 private:
  void accept(io::Fd accepted) {
    const bool opened = with_session(next_spread_++, [&](ClientSession& target) {
      target.forwards().open_tcp(std::move(accepted), rule_.device_port, id_);
    });
    if (!opened) {
      log::debug("forward {}: no device connected, connection closed", rule_.to_string());
      io::set_abort_on_close(accepted.get());
    }
  }

  std::uint32_t next_spread_ = 0;
  io::AcceptPause accept_{owner_.loop_, "forward " + rule_.to_string(),
                          [this](io::Fd accepted) { accept(std::move(accepted)); }};
};

class PortForwarder::UdpListener final : public Listener {
 public:
  using Listener::Listener;
  void on_ready(io::Readiness) override {
    if (!fd_.valid()) return;
    if (buffer_.empty()) buffer_.resize(kMaxDatagram);
    for (int i = 0; i < kDatagramBudget; ++i) {
      auto got = io::recv_from(fd_.get(), wire::MutableBytes{buffer_.data(), buffer_.size()});
      if (!got) return;  // nothing queued, or an error of an earlier send
      handle(got->from, wire::Bytes{buffer_.data(), got->size});
      // Datagrams a new peer socket caught before it was connected.
      while (!strays_.empty()) {
        Stray stray = std::move(strays_.front());
        strays_.pop_front();
        handle(stray.peer, wire::Bytes{stray.bytes.data(), stray.bytes.size()});
      }
    }
  }

 private:
  struct Peer {
    std::uint32_t client;
    FlowKey key;
  };
  struct Stray {
    io::Endpoint peer;
    std::vector<std::uint8_t> bytes;
  };

  // The listener's state (peers_, strays_, scratch_) is touched on the
  // session's loop while this one waits for it: one thread at a time.
  void handle(const io::Endpoint& peer, wire::Bytes datagram) {
    with_session(peer.port, [&](ClientSession& session) { handle_for(&session, peer, datagram); });
  }

  void handle_for(ClientSession* target, const io::Endpoint& peer, wire::Bytes datagram) {
    auto known = peers_.find(peer);
    if (known != peers_.end() && known->second.client == target->id() &&
        target->forwards().deliver_udp(known->second.key, peer, datagram))
      return;
    auto socket = io::open_udp_peer(rule_.listen, peer);
    if (!socket) {
      ++target->counters().drop_udp_send;
      log::debug("forward {}: no socket for peer {}:{}: {}", rule_.to_string(),
                 peer.address.to_string(), peer.port, socket.error().message());
      return;
    }
    take_strays(socket->get(), *target);
    auto key = target->forwards().open_udp(std::move(*socket), peer, rule_.device_port, id_,
                                                  datagram);
    if (!key) return;
    if (peers_.size() >= kMaxRememberedPeers) peers_.clear();
    peers_[peer] = Peer{target->id(), *key};
  }

  // Between bind() and connect() the new socket was one more unconnected
  // member of the port's SO_REUSEPORT group, so datagrams of any peer may
  // have been queued on it; once connected it only receives its own peer's.
  // Those early ones are taken out here and handled as if the listener had
  // read them (queued ones beyond the bound are dropped, counted).
  void take_strays(int fd, ClientSession& target) {
    if (scratch_.empty()) scratch_.resize(kMaxDatagram);
    for (;;) {
      auto got = io::recv_from(fd, wire::MutableBytes{scratch_.data(), scratch_.size()});
      if (!got) return;
      if (strays_.size() >= kMaxStrays) {
        ++target.counters().drop_udp_send;
        continue;
      }
      strays_.push_back(
          Stray{got->from, {scratch_.begin(), scratch_.begin() + static_cast<long>(got->size)}});
    }
  }

  std::vector<std::uint8_t> buffer_;   // allocated on the first datagram
  std::vector<std::uint8_t> scratch_;  // for strays, allocated on first use
  std::deque<Stray> strays_;
  std::unordered_map<io::Endpoint, Peer, EndpointHash, EndpointEqual> peers_;
};

PortForwarder::PortForwarder(io::EventLoop& loop, SessionFinder find_session)
    : loop_(loop), find_session_(std::move(find_session)) {}

PortForwarder::~PortForwarder() {
  for (auto& listener : listeners_) listener->stop_watching();
}

std::uint32_t PortForwarder::add(const ForwardRule& rule) {
  for (const auto& listener : listeners_) {
    const ForwardRule& other = listener->rule();
    if (other.protocol == rule.protocol && other.listen.port == rule.listen.port &&
        other.listen.address == rule.listen.address)
      throw std::invalid_argument(fmt::format("forward {}: {} already forwards that port",
                                              rule.to_string(), other.to_string()));
  }
  const std::uint32_t id = next_id_++;
  std::unique_ptr<Listener> listener;
  if (rule.protocol == wire::ip_protocol::kTcp)
    listener = std::make_unique<TcpListener>(*this, rule, id, io::listen_tcp(rule.listen));
  else
    listener = std::make_unique<UdpListener>(*this, rule, id, io::bind_udp(rule.listen));
  listener->watch();
  log::info("forwarding {} (host {}:{} -> device port {}{})", rule.to_string(),
            rule.listen.address.to_string(), rule.listen.port, rule.device_port,
            !rule.serial.empty() ? " of device " + rule.serial
            : rule.client_id     ? fmt::format(" of client {}", *rule.client_id)
                                 : std::string{});
  listeners_.push_back(std::move(listener));
  return id;
}

std::optional<std::uint32_t> PortForwarder::remove(const ForwardRule& rule) {
  const std::string text = rule.to_string();
  auto found = std::find_if(listeners_.begin(), listeners_.end(), [&](const auto& listener) {
    return listener->rule().to_string() == text;
  });
  if (found == listeners_.end()) return std::nullopt;
  const std::uint32_t id = (*found)->id();
  (*found)->close();
  // Destroyed after the current batch (the loop's rule for handlers); the
  // deferred callback must be copyable, hence the shared_ptr.
  std::shared_ptr<Listener> retired(std::move(*found));
  listeners_.erase(found);
  loop_.defer([retired] {});
  log::info("forward {} removed", text);
  return id;
}

std::vector<ForwardRule> PortForwarder::rules() const {
  std::vector<ForwardRule> rules;
  rules.reserve(listeners_.size());
  for (const auto& listener : listeners_) rules.push_back(listener->rule());
  return rules;
}

}  // namespace rtether::relay
