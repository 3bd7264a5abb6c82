// The relay's metrics text; see relay_metrics.hpp.
#include "relay/relay_metrics.hpp"

#include <array>
#include <utility>

#include "wire/prometheus_text.hpp"

namespace rtether::relay {

namespace {

using wire::MetricLabel;
using wire::MetricType;

// The help of each family that groups several counters (a single
// counter's help is its line in the table).
constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kGroupHelp{{
    {"bytes",
     "Bytes of IP packets: from_device framed from the client "
     "stream, to_device queued "
     "toward it"},
    {"packets",
     "IP packets: from_device framed from the client stream, "
     "to_device queued toward it"},
    {"flows_opened",
     "Device connections (tcp), UDP associations (udp) and "
     "echo identifiers "
     "(icmp) given a flow"},
    {"forwarded_flows_opened",
     "Host connections (tcp) and UDP peers (udp) forwarded to the device"},
    {"drops",
     "Packets, queries and connections dropped, by reason "
     "(relay/counters.hpp)"},
}};

std::string_view group_help(std::string_view family) {
  for (const auto& [name, help] : kGroupHelp)
    if (name == family) return help;
  return {};
}

// One family of a scope: the counters it is made of, by table index.
struct CounterFamily {
  std::string family;
  std::string_view help;
  std::string_view label;
  std::vector<std::pair<std::size_t, std::string>> members;  // index, label value
};

// The table's counters in families, in the order each first appears.
const std::vector<CounterFamily>& counter_families() {
  static const std::vector<CounterFamily> families = [] {
    std::vector<CounterFamily> built;
    std::size_t index = 0;
    Counters{}.for_each([&](const char* name, const char* meaning, std::uint64_t) {
      CounterMetric metric = counter_metric(name);
      CounterFamily* family = nullptr;
      for (auto& existing : built)
        if (existing.family == metric.family) family = &existing;
      if (family == nullptr) {
        std::string_view help = group_help(metric.family);
        built.push_back(
            CounterFamily{metric.family, help.empty() ? meaning : help, metric.label, {}});
        family = &built.back();
      }
      family->members.emplace_back(index++, std::move(metric.label_value));
    });
    return built;
  }();
  return families;
}

std::vector<std::uint64_t> counter_values(const Counters& counters) {
  std::vector<std::uint64_t> values;
  counters.for_each(
      [&](const char*, const char*, std::uint64_t value) { values.push_back(value); });
  return values;
}

// What one scope's samples are about: labels, and the counter values.
struct Subject {
  std::vector<std::pair<std::string_view, std::string>> labels;
  std::vector<std::uint64_t> values;
};

std::vector<MetricLabel> labels_of(const Subject& subject) {
  std::vector<MetricLabel> labels;
  for (const auto& [name, value] : subject.labels) labels.push_back(MetricLabel{name, value});
  return labels;
}

void write_counter_families(wire::PrometheusText& text, std::string_view scope,
                            const std::vector<Subject>& subjects) {
  for (const auto& family : counter_families()) {
    text.family(std::string(scope) + "_" + family.family + "_total", MetricType::Counter,
                family.help);
    for (const auto& subject : subjects) {
      std::vector<MetricLabel> labels = labels_of(subject);
      for (const auto& [index, value] : family.members) {
        if (!family.label.empty()) labels.push_back(MetricLabel{family.label, value});
        text.sample(labels, subject.values[index]);
        if (!family.label.empty()) labels.pop_back();
      }
    }
  }
}

// A gauge or counter with one value per subject.
template <typename Value>
void write_per_subject(wire::PrometheusText& text, const std::string& name, MetricType type,
                       std::string_view help, const std::vector<Subject>& subjects,
                       const std::vector<Value>& values) {
  text.family(name, type, help);
  for (std::size_t i = 0; i < subjects.size(); ++i)
    text.sample(labels_of(subjects[i]), static_cast<std::uint64_t>(values[i]));
}

void write_relay(wire::PrometheusText& text, const MetricsSnapshot& snapshot) {
  text.family("rtether_sessions", MetricType::Gauge, "Client sessions live now");
  text.sample({}, static_cast<std::uint64_t>(snapshot.sessions));
  text.family("rtether_open_flows", MetricType::Gauge,
              "Flows live now, all clients (TIME-WAIT ones not counted)");
  text.sample({}, static_cast<std::uint64_t>(snapshot.open_flows));
  if (snapshot.process.open_fds) {
    text.family("process_open_fds", MetricType::Gauge,
                "Open file descriptors (Windows: kernel handles)");
    text.sample({}, *snapshot.process.open_fds);
  }
  if (snapshot.process.resident_bytes) {
    text.family("process_resident_memory_bytes", MetricType::Gauge,
                "Resident memory in bytes (Windows: the working set)");
    text.sample({}, *snapshot.process.resident_bytes);
  }
  write_counter_families(text, "rtether", {Subject{{}, counter_values(snapshot.totals)}});
}

void write_clients(wire::PrometheusText& text, const std::vector<ClientStats>& clients) {
  std::vector<Subject> subjects;
  std::vector<std::size_t> open_flows;
  for (const auto& client : clients) {
    Subject subject{{{"client", std::to_string(client.id)}}, counter_values(client.counters)};
    if (!client.serial.empty()) subject.labels.emplace_back("serial", client.serial);
    subjects.push_back(std::move(subject));
    open_flows.push_back(client.open_flows);
  }
  write_per_subject(text, "rtether_client_open_flows", MetricType::Gauge,
                    "Flows of the client live now (TIME-WAIT ones not counted)", subjects,
                    open_flows);
  write_counter_families(text, "rtether_client", subjects);
}

void write_devices(wire::PrometheusText& text, const std::vector<DeviceStats>& devices) {
  std::vector<Subject> subjects;
  std::vector<int> connected;
  std::vector<std::uint64_t> connections;
  std::vector<std::uint64_t> reconnects;
  std::vector<std::size_t> open_flows;
  for (const auto& device : devices) {
    subjects.push_back(Subject{{{"serial", device.serial}}, counter_values(device.counters)});
    connected.push_back(device.connected ? 1 : 0);
    connections.push_back(device.connections);
    reconnects.push_back(device.reconnects);
    open_flows.push_back(device.open_flows);
  }
  write_per_subject(text, "rtether_device_connected", MetricType::Gauge,
                    "1 while a client of the device is live, else 0", subjects, connected);
  write_per_subject(text, "rtether_device_connections_total", MetricType::Counter,
                    "Clients accepted for the device", subjects, connections);
  write_per_subject(text, "rtether_device_reconnects_total", MetricType::Counter,
                    "Clients accepted for the device after its first", subjects, reconnects);
  write_per_subject(text, "rtether_device_open_flows", MetricType::Gauge,
                    "Flows of the device's clients live now (TIME-WAIT ones not counted)", subjects,
                    open_flows);
  write_counter_families(text, "rtether_device", subjects);
}

}  // namespace

CounterMetric counter_metric(std::string_view name) {
  constexpr std::string_view kFromDevice = "_from_device";
  constexpr std::string_view kToDevice = "_to_device";
  for (std::string_view family : {"bytes", "packets"}) {
    if (!name.starts_with(family)) continue;
    std::string_view rest = name.substr(family.size());
    if (rest == kFromDevice || rest == kToDevice)
      return {std::string(family), "direction", std::string(rest.substr(1))};
  }
  for (std::string_view protocol : {"tcp", "udp", "icmp"}) {
    if (name == std::string(protocol) + "_flows_opened")
      return {"flows_opened", "protocol", std::string(protocol)};
    if (name == "forward_" + std::string(protocol) + "_opened")
      return {"forwarded_flows_opened", "protocol", std::string(protocol)};
  }
  if (name.starts_with("drop_")) return {"drops", "reason", std::string(name.substr(5))};
  if (auto drop = name.find("_drop_"); drop != std::string_view::npos)
    return {"drops", "reason",
            std::string(name.substr(0, drop)) + "_" + std::string(name.substr(drop + 6))};
  return {std::string(name), {}, {}};
}

MetricsSnapshot take_metrics_snapshot(const Relay& relay) {
  return MetricsSnapshot{relay.client_stats(), relay.device_stats(), relay.totals(),
                         relay.client_count(), relay.flow_count(),   io::process_usage()};
}

std::string format_metrics(const MetricsSnapshot& snapshot) {
  wire::PrometheusText text;
  write_relay(text, snapshot);
  write_clients(text, snapshot.clients);
  write_devices(text, snapshot.devices);
  return text.take();
}

}  // namespace rtether::relay
