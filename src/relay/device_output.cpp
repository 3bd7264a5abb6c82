// DeviceOutput: see device_output.hpp.
#include "relay/device_output.hpp"

namespace rtether::relay {

namespace {
// Above this many queued bytes a flow's commit sends at once instead of
// waiting for the end of the loop iteration: keeps the pipe to the client full.
constexpr std::size_t kEagerFlushBytes = 128 * 1024;
}  // namespace

DeviceOutput::DeviceOutput(io::EventLoop& loop, DeviceLink& link, const RelayConfig& config,
                           Counters& counters, FlowTable& flows,
                           std::function<void()> on_send_error)
    : link_(link),
      config_(config),
      counters_(counters),
      flows_(flows),
      on_send_error_(std::move(on_send_error)),
      queue_(config.output_capacity, ByteQueue::WhenEmpty::Keep),
      flush_task_(loop, [this] { flush(); }),
      wake_task_(loop, [this] {
        if (closed_) return;
        flush();
        if (!blocked_) wake_waiting();
      }) {}

wire::MutableBytes DeviceOutput::reserve(std::size_t bytes, bool control) {
  if (closed_) return {};
  std::size_t limit = control ? 0 : config_.control_reserve;
  if (queue_.free_space() < bytes + limit && !queue_.empty()) flush();
  if (queue_.free_space() < bytes + limit) {
    if (control) ++counters_.drop_output_full;
    return {};
  }
  return queue_.reserve(bytes);
}

void DeviceOutput::commit(std::size_t bytes) {
  queue_.commit(bytes);
  ++counters_.packets_to_device;
  counters_.bytes_to_device += bytes;
  if (queue_.size() >= kEagerFlushBytes)
    flush();
  else
    flush_task_.schedule();
}

void DeviceOutput::flush() {
  while (!queue_.empty() && !blocked_ && !closed_) {
    const LinkSend sent = link_.send(queue_.front());
    queue_.consume(sent.consumed);
    counters_.drop_device_write += sent.refused;
    if (sent.error) return on_send_error_();
    if (sent.blocked) {
      blocked_ = true;  // the next writable edge resumes (on_writable)
      return;
    }
  }
}

void DeviceOutput::wait_for_output(Flow& flow) {
  flows_.park(flow);
  // If the queue is not blocked on the socket, room comes back with the
  // next flush; make sure one happens.
  if (!blocked_) wake_task_.schedule();
}

void DeviceOutput::on_writable() {
  blocked_ = false;
  flush();
  wake_waiting();
}

void DeviceOutput::wake_waiting() {
  flows_.wake_parked([this] { return !blocked_ && !closed_; });
}

}  // namespace rtether::relay
