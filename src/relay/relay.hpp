// Relay: the host side. Listens (TCP and/or UNIX socket), gives each
// accepted client the next id (from 0, as Gnirehtet does) and a
// ClientSession, and removes the session when its client goes away. In
// direct mode the caller attaches a device link it opened itself (the tun
// in a network namespace), which gets the next id the same way.
//
// Device identity: every adb reverse connection comes from 127.0.0.1, so
// the peer address says nothing about which phone it is. `run` and
// `autorun` give each adb serial a listener of its own (its reverse
// tunnel's target, `listen_tcp(at, serial)`); a client accepted on it
// carries that serial (`ClientSession::serial`). Per-serial totals
// (`device_stats`) add up every client of that serial, the gone ones
// included, so they survive the app reconnecting; clients of unlabelled
// listeners have no serial and are counted per client only.
//
// Threads (RelayConfig::threads, `--threads`): the relay runs its sessions
// on N event loops, the caller's (which also has the listeners, the port
// forwarder and whatever else the caller put on it) and N - 1 of its own,
// each on a thread of its own. A new session goes to the loop with the
// fewest sessions (ties: the next one round the ring) and lives there until
// it closes: a device's packets and flows never cross threads. Everything
// here is called on the caller's loop; what reads or touches sessions
// (stats, forwards) runs on each session's own loop, through
// io::EventLoop::post, and waits for it. The loops' threads never wait for
// the caller's, so that cannot deadlock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "io/accept_pause.hpp"
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
  std::string serial;  // adb serial of the listener it came through; empty when unknown
  std::size_t thread = 0;  // the loop it runs on (0: the caller's)
  QueueSlot queue;         // its tun queue, in direct mode with several (attach_queues)
  std::size_t open_flows = 0;  // live flows (TIME-WAIT ones not counted)
  std::uint64_t bytes_from_device = 0;
  std::uint64_t bytes_to_device = 0;
  std::uint64_t packets_from_device = 0;
  std::uint64_t packets_to_device = 0;
  Counters counters;  // its whole counter table (the metrics endpoint's drops, flows, ...)
};

// One adb serial across all its clients so far (a copy: read-only).
struct DeviceStats {
  std::string serial;
  bool connected = false;      // a client of it is live (and past the --secret handshake)
  std::uint32_t client_id = 0;  // the most recent live client's id, when connected
  std::size_t open_flows = 0;   // of its live clients (TIME-WAIT ones not counted)
  std::uint64_t connections = 0;  // clients accepted for it
  std::uint64_t reconnects = 0;   // connections after the first
  Counters counters;              // its clients' counters, live and gone
};

class Relay {
 public:
  // Starts config.threads - 1 threads (see above); `loop` is the first of
  // the N and must outlive the relay. Throws std::system_error when a loop
  // or thread cannot be made.
  Relay(io::EventLoop& loop, RelayConfig config);
  ~Relay();

  // Start-up configuration: throw std::system_error with a clear message.
  // `device_label`: the adb serial whose reverse tunnel targets this
  // listener (its clients carry it; its totals appear in device_stats at
  // once); empty for none. Returns where it listens (port 0: the port the
  // system chose).
  io::Endpoint listen_tcp(const io::Endpoint& at, std::string device_label = {});
  // Labels the unlabelled TCP listener on `port` with `device_label` once
  // it is known (`run` without SERIAL: the only device's, from adb). Before
  // the loop first runs, so that no client of it was accepted unlabelled.
  void label_listener(std::uint16_t port, const std::string& device_label);
  void listen_unix(const std::string& path);
  // A device on a link opened by the caller (direct mode). `on_closed` runs
  // on the caller's loop once its session has closed (the link failed or
  // ended).
  void attach(std::unique_ptr<DeviceLink> link, std::function<void()> on_closed);
  // One device on a multi-queue tun (direct mode with --threads: each link
  // a queue, DeviceLink::queue): a session per queue, queue i on loop i
  // (mod N), so the device's flows run on every loop. They are one device
  // to port forwarding (each new connection goes to the next queue's
  // session, which picks its ports for the kernel to steer the answers
  // back to it) and to the totals; the status lists each queue's session.
  void attach_queues(std::vector<std::unique_ptr<DeviceLink>> links,
                     std::function<void()> on_closed);
  // Host -> device port forwarding, at start-up or at run time: throws
  // std::system_error when the port is taken, std::invalid_argument when
  // another rule forwards it already.
  void add_forward(const ForwardRule& rule);
  // Closes the rule's port and ends its flows in every session; false when
  // no rule equal to `rule` is in place.
  bool remove_forward(const ForwardRule& rule);
  std::vector<ForwardRule> forwards() const { return forwarder_.rules(); }
  // Runs `use` on the session's own loop, with the session of a client id
  // or else the most recently connected one, and waits for it; false (and
  // `use` not run) if there is none (or it has not answered the --secret
  // handshake yet).
  // A device of several queues' sessions (attach_queues) is one: `spread`
  // picks which of them (PortForwarder::SessionFinder).
  bool with_session(std::optional<std::uint32_t> client_id,
                    const std::function<void(ClientSession&)>& use, std::uint32_t spread = 0);
  // The same with the most recently connected session of an adb serial.
  bool with_session_of_serial(const std::string& serial,
                              const std::function<void(ClientSession&)>& use,
                              std::uint32_t spread = 0);

  const RelayConfig& config() const { return config_; }
  std::size_t thread_count() const { return workers_.size(); }
  // Live sessions on each loop (the caller's first): how they are spread.
  std::vector<std::size_t> sessions_per_thread() const;
  std::size_t client_count() const { return placement_.size(); }
  std::size_t flow_count() const;
  Counters totals() const;  // live clients plus those already gone
  std::vector<ClientStats> client_stats() const;  // live clients, by id
  std::vector<DeviceStats> device_stats() const;  // every serial listened for or seen, by serial

 private:
  // A listening socket; its AcceptPause keeps a failing accept from
  // spinning (see io/accept_pause.hpp).
  class Listener : public io::Handler {
   public:
    Listener(Relay& relay, io::Fd fd, std::string device_label);
    void on_ready(io::Readiness readiness) override;
    int fd() const { return fd_.get(); }
    const std::string& device_label() const { return device_label_; }
    void set_device_label(const std::string& label) { device_label_ = label; }

   private:
    io::Fd fd_;
    std::string device_label_;
    io::AcceptPause accept_;
  };

  // One event loop and its sessions. Only `loop` is shared; the rest is
  // touched on that loop's thread only.
  struct Worker {
    io::EventLoop* loop = nullptr;  // all but the caller's: owned by `thread`
    std::thread thread;             // all but the caller's
    std::map<std::uint32_t, std::unique_ptr<ClientSession>> sessions;
    Counters closed;                                   // of its clients already gone
    std::map<std::string, Counters> closed_by_serial;  // the same per adb serial
    bool stopping = false;                             // the relay is being destroyed
  };
  // Where a live session is, kept on the caller's loop.
  struct Placement {
    std::size_t worker = 0;
    std::string serial;
    std::uint32_t device = 0;  // its first session's id: the same for a device's queues
  };

  void stop_workers();
  // Runs `work` on the worker's thread and waits for it (rethrows what it
  // threw). On the caller's loop only.
  void run_on(Worker& worker, const std::function<void()>& work) const;
  // Runs `work` on each worker's thread in turn.
  void run_on_each(const std::function<void(Worker&)>& work) const;
  // Runs `work` on the caller's loop: now from there, posted from another.
  void to_main(const Worker& from, std::function<void()> work);
  std::size_t pick_worker();
  // `use` with session `id`, on its thread, if it is relaying.
  bool use_session(std::uint32_t id, const std::function<void(ClientSession&)>& use);
  // The same with one of the sessions of id's device, `spread` picking.
  bool use_device(std::uint32_t id, const std::function<void(ClientSession&)>& use,
                  std::uint32_t spread);
  void accept_from(const Listener& listener, io::Fd fd);
  std::size_t unanswered_clients() const;
  // `worker`: its loop, else pick_worker(); `device`: the id of the
  // device's first session, else its own.
  void add_session(std::unique_ptr<DeviceLink> link, std::function<void()> on_closed,
                   const std::string& device_label = {},
                   std::optional<std::size_t> worker = std::nullopt,
                   std::optional<std::uint32_t> device = std::nullopt);
  void on_session_closed(Worker& worker, std::uint32_t id, const std::function<void()>& then);

  io::EventLoop& loop_;
  RelayConfig config_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::size_t next_worker_ = 0;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::map<std::uint32_t, Placement> placement_;
  std::uint32_t next_id_ = 0;
  Counters refused_;  // counted on the caller's loop: clients turned away
  std::map<std::string, std::uint64_t> connections_;  // clients accepted per serial
  // Callbacks posted to the caller's loop check it still has this relay.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  PortForwarder forwarder_;
};

}  // namespace rtether::relay
