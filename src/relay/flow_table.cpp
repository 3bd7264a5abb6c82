// FlowTable: see flow_table.hpp for the lifecycle.
#include "relay/flow_table.hpp"

namespace rtether::relay {

FlowTable::FlowTable(io::EventLoop& loop, std::size_t max_live_flows)
    : max_live_flows_(max_live_flows),
      loop_(loop),
      lingering_timer_(loop, [this] { expire_lingering(); }),
      reap_task_(loop, [this] { reap(); }) {}

FlowTable::~FlowTable() = default;

Flow* FlowTable::find(const FlowKey& key) const {
  auto found = flows_.find(key);
  return found == flows_.end() ? nullptr : found->second.get();
}

Flow& FlowTable::insert(std::unique_ptr<Flow> flow) {
  const FlowKey key = flow->key();
  return *flows_.emplace(key, std::move(flow)).first->second;
}

Flow& FlowTable::replace_lingering(Flow& flow, std::unique_ptr<Flow> successor,
                                   io::Time until) {
  Flow& kept = *successor;
  kept.forward_id_ = flow.forward_id_;
  kept.lingering_ = true;
  ++lingering_count_;
  retire(flow);
  flows_.insert_or_assign(kept.key(), std::move(successor));
  append_lingering(kept, until);
  return kept;
}

void FlowTable::extend_lingering(Flow& flow, io::Time until) {
  if (!flow.lingering_ || flow.retired_) return;
  unlink_lingering(flow);
  append_lingering(flow, until);
}

void FlowTable::FlowList::push_back(Flow& flow) {
  flow.list_prev_ = tail;
  flow.list_next_ = nullptr;
  if (tail)
    tail->list_next_ = &flow;
  else
    head = &flow;
  tail = &flow;
}

void FlowTable::FlowList::unlink(Flow& flow) {
  if (flow.list_prev_)
    flow.list_prev_->list_next_ = flow.list_next_;
  else
    head = flow.list_next_;
  if (flow.list_next_)
    flow.list_next_->list_prev_ = flow.list_prev_;
  else
    tail = flow.list_prev_;
  flow.list_next_ = flow.list_prev_ = nullptr;
}

void FlowTable::append_lingering(Flow& flow, io::Time until) {
  flow.lingering_until_ = until;
  lingering_list_.push_back(flow);
  rearm_lingering();
}

void FlowTable::unlink_lingering(Flow& flow) {
  lingering_list_.unlink(flow);
  rearm_lingering();
}

void FlowTable::rearm_lingering() {
  if (!lingering_list_.head)
    lingering_timer_.cancel();
  else if (!lingering_timer_.armed() ||
           lingering_timer_.deadline() != lingering_list_.head->lingering_until_)
    lingering_timer_.arm(lingering_list_.head->lingering_until_);
}

void FlowTable::expire_lingering() {
  const io::Time now = loop_.now();
  while (lingering_list_.head && lingering_list_.head->lingering_until_ <= now) {
    Flow& due = *lingering_list_.head;
    due.shut_down();
    retire(due);  // in case shut_down() did not (it should): the list must move on
  }
}

void FlowTable::park(Flow& flow) {
  if (flow.waiting_ || flow.retired_ || flow.lingering_) return;
  flow.waiting_ = true;
  waiting_list_.push_back(flow);
}

void FlowTable::unlink_waiting(Flow& flow) {
  if (!flow.waiting_) return;
  waiting_list_.unlink(flow);
  flow.waiting_ = false;
}

void FlowTable::wake_parked(const std::function<bool()>& room_left) {
  Flow* last = waiting_list_.tail;
  while (waiting_list_.head && room_left()) {
    Flow* flow = waiting_list_.head;
    unlink_waiting(*flow);
    flow->pump();
    if (flow == last) break;
  }
}

void FlowTable::retire(Flow& flow) {
  if (flow.retired_) return;
  flow.retired_ = true;
  unlink_waiting(flow);
  if (flow.lingering_) {
    unlink_lingering(flow);
    flow.lingering_ = false;
    --lingering_count_;
  }
  auto found = flows_.find(flow.key());
  if (found != flows_.end() && found->second.get() == &flow) {
    retired_.push_back(std::move(found->second));
    flows_.erase(found);
  }
  reap_task_.schedule();
}

void FlowTable::close() {
  closed_ = true;
  // Flows retire themselves from shut_down(); iterate over a snapshot.
  std::vector<Flow*> flows;
  flows.reserve(flows_.size());
  for (auto& [key, flow] : flows_) flows.push_back(flow.get());
  for (Flow* flow : flows) flow->shut_down();
}

void FlowTable::abort_matching(const std::function<bool(const Flow&)>& matches) {
  // Flows retire themselves from abort(); iterate over a snapshot.
  std::vector<Flow*> selected;
  for (auto& [key, flow] : flows_)
    if (matches(*flow)) selected.push_back(flow.get());
  for (Flow* flow : selected) flow->abort();
}

void FlowTable::reap() { retired_.clear(); }

}  // namespace rtether::relay
