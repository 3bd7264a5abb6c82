// DeferredTask: see deferred_task.hpp.
#include "relay/deferred_task.hpp"

namespace rtether::relay {

DeferredTask::DeferredTask(io::EventLoop& loop, std::function<void()> work)
    : loop_(loop), work_(std::move(work)) {}

DeferredTask::~DeferredTask() { state_->alive = false; }

void DeferredTask::schedule() {
  if (state_->scheduled) return;
  state_->scheduled = true;
  loop_.defer([this, state = state_] {
    if (!state->alive) return;
    state->scheduled = false;
    work_();
  });
}

}  // namespace rtether::relay
