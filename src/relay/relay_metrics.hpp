// The relay's figures in the Prometheus text format (wire/prometheus_text),
// what `--metrics` serves. Three scopes, each a set of families:
//   rtether_*          relay-wide: live sessions and flows, the counter
//                      totals (gone clients and the port forwarder
//                      included), process_open_fds and
//                      process_resident_memory_bytes (the names Prometheus'
//                      own client libraries use);
//   rtether_client_*   each live client (label client="ID", and
//                      serial="..." when its adb serial is known): its
//                      counters, open flows;
//   rtether_device_*   each adb serial (label serial): its clients' counters,
//                      live and gone (they survive reconnects), connected
//                      0/1, connections and reconnects, open flows.
//
// The counter families come from relay/counters.hpp's one table, so a new
// counter appears here with no edit: each counter is its own family
// (`<scope>_<name>_total`, its table text as help), except those grouped by
// one label (`counter_metric` says which): bytes and packets by direction,
// flows opened by protocol, and every drop (a name starting "drop_" or
// holding "_drop_") in one `drops_total` family by reason.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "io/process_usage.hpp"
#include "relay/relay.hpp"

namespace rtether::relay {

// Where one counter of the table goes: family `<scope>_<family>_total`,
// with `label`="`label_value`" unless the label is empty.
struct CounterMetric {
  std::string family;
  std::string_view label;
  std::string label_value;
};
CounterMetric counter_metric(std::string_view counter_name);

// Everything the text is made of (a copy, taken on the loop).
struct MetricsSnapshot {
  std::vector<ClientStats> clients;
  std::vector<DeviceStats> devices;
  Counters totals;
  std::size_t sessions = 0;
  std::size_t open_flows = 0;
  io::ProcessUsage process;
};

MetricsSnapshot take_metrics_snapshot(const Relay& relay);
std::string format_metrics(const MetricsSnapshot& snapshot);

}  // namespace rtether::relay
