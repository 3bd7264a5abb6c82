// FlowTable: the flows of one client session, by FlowKey, and everything
// about their lifecycle: lookup, the per-client flow limit, the waiting list
// of flows that wait for room in the output queue, and retiring flows now
// while destroying them only after the current batch of events.
//
// Flow lifecycle (one flow, one FlowKey):
//
//   OPENING    constructed by the session or a forward, not yet in the
//              table; a failed open (no route, no ping socket) destroys it
//              here and nothing else ever saw it
//      | insert()
//      v
//   LIVE       in the table: device packets reach it by key, host socket
//              readiness by the loop; counts against max_flows_per_client
//      | park() <-> wake_parked()
//   PARKED     LIVE, with host data to deliver and no room for it: on the
//              waiting list (FIFO, each flow at most once), pumped in order
//              when room returns (pull: nothing read is ever dropped)
//      | replace_lingering()
//      v
//   LINGERING  TIME-WAIT: the flow gave its place under the key to a
//              compact successor (TimeWaitFlow: no socket, only what
//              re-acknowledges a retransmitted FIN, RFC 9293 3.10.7.4) and
//              retired; still found by key, not counted against the limit;
//              shut down by the table when its deadline passes (one timer
//              for all: they wait in deadline order, see below)
//      | retire()               (from any state above)
//      v
//   RETIRED    out of the table and the waiting list, timers cancelled, host
//              socket out of the loop and closed; destroyed when the
//              batch ends, so events already fetched for it find a live
//              object that ignores them
//
// Invariants: a key names at most one flow in the table; a retired flow is
// on neither list; a flow is on at most one (waiting: live and parked;
// lingering: by deadline, oldest first); live_count() + lingering flows ==
// size(); close() retires every flow and the table takes no new one after it.
//
// Lingering flows all wait the same time (2 MSL) from when they start or
// restart, so appending each at the end keeps the list in deadline order:
// one timer, for the first, serves them all, and a connection rate of
// thousands a second adds nothing to the loop's timer heap.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "io/event_loop.hpp"
#include "relay/deferred_task.hpp"
#include "relay/flow.hpp"
#include "relay/flow_key.hpp"

namespace rtether::relay {

class FlowTable {
 public:
  FlowTable(io::EventLoop& loop, std::size_t max_live_flows);
  ~FlowTable();
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  // The flow of this key (live or lingering), or null.
  Flow* find(const FlowKey& key) const;
  // A new flow is within the per-client limit (TIME-WAIT flows not
  // counted). Refusals are the caller's to count: each has its own answer.
  bool has_room() const { return live_count() < max_live_flows_; }
  // Takes a new flow whose key is free; returns it.
  Flow& insert(std::unique_ptr<Flow> flow);
  std::size_t size() const { return flows_.size(); }
  std::size_t live_count() const { return flows_.size() - lingering_count_; }

  // LIVE -> LINGERING by succession: `successor` (same key, and the
  // flow's forward id) takes `flow`'s place in the table as a lingering
  // flow until `until`, and `flow` retires. Returns the successor. When
  // `until` passes, the table calls the successor's shut_down() (which
  // retires it); retire() before that undoes the accounting. `until` must
  // not be before any lingering flow's (now + the one lingering time).
  Flow& replace_lingering(Flow& flow, std::unique_ptr<Flow> successor, io::Time until);
  // A lingering flow's deadline moves to `until`, under the same rule
  // (TIME-WAIT restarted by a retransmitted FIN): it goes to the end.
  void extend_lingering(Flow& flow, io::Time until);

  // LIVE -> PARKED (idempotent): the flow waits for output room.
  void park(Flow& flow);
  bool has_parked() const { return waiting_list_.head != nullptr; }
  // Unparks and pumps the flows parked before this call, in order, for as
  // long as `room_left` says the output has room; a flow that fills it
  // again parks itself at the end (so it cannot spin here).
  void wake_parked(const std::function<bool()>& room_left);

  // Any state -> RETIRED (idempotent).
  void retire(Flow& flow);
  // Aborts every flow `matches` selects (each retires itself); a control
  // request, not per packet, so a scan of the table.
  void abort_matching(const std::function<bool(const Flow&)>& matches);
  // Shuts every flow down (each retires itself) and refuses new ones.
  void close();
  bool closed() const { return closed_; }

 private:
  // An intrusive FIFO through Flow::list_next_/list_prev_ (a flow is on
  // at most one).
  struct FlowList {
    Flow* head = nullptr;
    Flow* tail = nullptr;
    void push_back(Flow& flow);
    void unlink(Flow& flow);
  };

  void unlink_waiting(Flow& flow);
  void append_lingering(Flow& flow, io::Time until);
  void unlink_lingering(Flow& flow);
  void rearm_lingering();
  void expire_lingering();
  void reap();

  std::size_t max_live_flows_;
  std::unordered_map<FlowKey, std::unique_ptr<Flow>, FlowKeyHash> flows_;
  std::vector<std::unique_ptr<Flow>> retired_;
  FlowList waiting_list_;
  FlowList lingering_list_;  // by deadline: the earliest first
  std::size_t lingering_count_ = 0;
  io::EventLoop& loop_;
  io::Timer lingering_timer_;  // at the first lingering flow's deadline
  bool closed_ = false;
  DeferredTask reap_task_;
};

}  // namespace rtether::relay
