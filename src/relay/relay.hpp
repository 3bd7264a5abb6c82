// Relay: the host side. Listens (TCP and/or UNIX socket), gives each
// accepted client the next id (from 0, as Gnirehtet does) and a
// ClientSession, and removes the session when its client goes away.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/event_loop.hpp"
#include "io/socket.hpp"
#include "relay/client_session.hpp"
#include "relay/config.hpp"
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
  // A level-triggered listening socket. When accept fails (out of fds or
  // memory, most often) the connection stays queued and the socket stays
  // readable: the listener then stops watching it for kAcceptPause instead
  // of spinning, and logs the first failure of a streak only.
  class Listener : public io::Handler {
   public:
    Listener(Relay& relay, io::Fd fd);
    void on_ready(io::Readiness readiness) override;
    int fd() const { return fd_.get(); }
    void pause_after(const std::error_code& error);
    void stop_watching();

   private:
    void resume();

    Relay& relay_;
    io::Fd fd_;
    io::Timer resume_timer_;
    std::uint64_t failed_tries_ = 0;  // in the current streak
    bool watching_ = true;  // registered with the loop (not paused)
  };

  void accept_from(Listener& listener);
  std::size_t unanswered_clients() const;
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
