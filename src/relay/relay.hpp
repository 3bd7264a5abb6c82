// Relay: the host side. Listens (TCP and/or UNIX socket), gives each
// accepted client the next id (from 0, as Gnirehtet does) and a
// ClientSession, and removes the session when its client goes away. In
// direct mode the caller attaches a device link it opened itself (the tun
// in a network namespace), which gets the next id the same way.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/event_loop.hpp"
#include "io/socket.hpp"
#include "relay/client_session.hpp"
#include "relay/config.hpp"
#include "relay/device_link.hpp"
#include "relay/port_forwarder.hpp"

namespace rtether::relay {

// What a status display needs about one live client (a copy: read-only).
struct ClientStats {
  std::uint32_t id = 0;
  std::size_t open_flows = 0;  // live flows (TIME-WAIT ones not counted)
  std::uint64_t bytes_from_device = 0;
  std::uint64_t bytes_to_device = 0;
  std::uint64_t packets_from_device = 0;
  std::uint64_t packets_to_device = 0;
};

class Relay {
 public:
  Relay(io::EventLoop& loop, RelayConfig config);
  ~Relay();

  // Start-up configuration: throw std::system_error with a clear message.
  void listen_tcp(const io::Endpoint& at);
  void listen_unix(const std::string& path);
  // A device on a link opened by the caller (direct mode). `on_closed` runs
  // once its session has closed (the link failed or ended).
  void attach(std::unique_ptr<DeviceLink> link, std::function<void()> on_closed);
  // Host -> device port forwarding (start-up; throws when the port is taken).
  void add_forward(const ForwardRule& rule);
  // The session of a client id, or the most recently connected one; null if
  // none (or it has not answered the --secret handshake yet).
  ClientSession* session_for(std::optional<std::uint32_t> client_id);

  const RelayConfig& config() const { return config_; }
  std::size_t client_count() const { return sessions_.size(); }
  std::size_t flow_count() const;
  Counters totals() const;  // live clients plus those already gone
  std::vector<ClientStats> client_stats() const;  // live clients, by id

 private:
  class Listener : public io::Handler {
   public:
    Listener(Relay& relay, io::Fd fd) : relay_(relay), fd_(std::move(fd)) {}
    void on_ready(io::Readiness readiness) override;
    int fd() const { return fd_.get(); }

   private:
    Relay& relay_;
    io::Fd fd_;
  };

  void accept_from(int listen_fd);
  void add_session(std::unique_ptr<DeviceLink> link, ClientSession::ClosedCallback on_closed);
  void on_session_closed(std::uint32_t id);

  io::EventLoop& loop_;
  RelayConfig config_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::map<std::uint32_t, std::unique_ptr<ClientSession>> sessions_;
  std::uint32_t next_id_ = 0;
  Counters closed_totals_;
  PortForwarder forwarder_;
};

}  // namespace rtether::relay
