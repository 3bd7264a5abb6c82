// The relay's metrics text: counters of relay/counters.hpp's table grouped
// into families (counter_metric), each scope's labels, and the relay-wide
// and process gauges.
#include "relay/relay_metrics.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>

namespace rtether::relay {
namespace {

TEST(CounterMetric, BytesAndPacketsAreGroupedByDirection) {
  auto bytes = counter_metric("bytes_to_device");
  EXPECT_EQ(bytes.family, "bytes");
  EXPECT_EQ(bytes.label, "direction");
  EXPECT_EQ(bytes.label_value, "to_device");
  auto packets = counter_metric("packets_from_device");
  EXPECT_EQ(packets.family, "packets");
  EXPECT_EQ(packets.label_value, "from_device");
}

TEST(CounterMetric, FlowsOpenedAreGroupedByProtocol) {
  EXPECT_EQ(counter_metric("icmp_flows_opened").family, "flows_opened");
  EXPECT_EQ(counter_metric("icmp_flows_opened").label_value, "icmp");
  EXPECT_EQ(counter_metric("forward_udp_opened").family, "forwarded_flows_opened");
  EXPECT_EQ(counter_metric("forward_udp_opened").label, "protocol");
  EXPECT_EQ(counter_metric("forward_udp_opened").label_value, "udp");
}

TEST(CounterMetric, DropsAreOneFamilyByReason) {
  auto drop = counter_metric("drop_bad_ip");
  EXPECT_EQ(drop.family, "drops");
  EXPECT_EQ(drop.label, "reason");
  EXPECT_EQ(drop.label_value, "bad_ip");
  EXPECT_EQ(counter_metric("dns_drop_in_flight_limit").label_value, "dns_in_flight_limit");
}

TEST(CounterMetric, OtherCountersAreTheirOwnFamily) {
  auto other = counter_metric("dns_timeouts");
  EXPECT_EQ(other.family, "dns_timeouts");
  EXPECT_TRUE(other.label.empty());
}

// The sample lines of the text, by "name{labels}".
std::map<std::string, std::string> samples(const std::string& text) {
  std::map<std::string, std::string> found;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    auto space = line.rfind(' ');
    found[line.substr(0, space)] = line.substr(space + 1);
  }
  return found;
}

MetricsSnapshot example() {
  MetricsSnapshot snapshot;
  ClientStats client;
  client.id = 3;
  client.serial = "emulator-5554";
  client.open_flows = 2;
  client.counters.bytes_to_device = 1234;
  client.counters.drop_bad_ip = 5;
  client.counters.tcp_flows_opened = 7;
  snapshot.clients.push_back(client);
  ClientStats unlabelled;
  unlabelled.id = 4;
  unlabelled.counters.bytes_from_device = 99;
  snapshot.clients.push_back(unlabelled);
  DeviceStats device;
  device.serial = "emulator-5554";
  device.connected = true;
  device.connections = 3;
  device.reconnects = 2;
  device.open_flows = 2;
  device.counters.bytes_to_device = 5000;
  device.counters.dns_drop_answer_lost = 1;
  snapshot.devices.push_back(device);
  DeviceStats gone;
  gone.serial = "0123456789ABCDEF";
  snapshot.devices.push_back(gone);
  snapshot.totals.bytes_to_device = 6234;
  snapshot.totals.dns_timeouts = 8;
  snapshot.sessions = 2;
  snapshot.open_flows = 2;
  snapshot.process = io::ProcessUsage{4096000, 17};
  return snapshot;
}

TEST(RelayMetrics, ClientSamplesCarryIdAndSerialWhenKnown) {
  auto found = samples(format_metrics(example()));
  EXPECT_EQ(found["rtether_client_bytes_total{client=\"3\",serial=\"emulator-5554\","
                  "direction=\"to_device\"}"],
            "1234");
  EXPECT_EQ(found["rtether_client_bytes_total{client=\"4\",direction=\"from_device\"}"], "99");
  EXPECT_EQ(found["rtether_client_drops_total{client=\"3\",serial=\"emulator-5554\","
                  "reason=\"bad_ip\"}"],
            "5");
  EXPECT_EQ(found["rtether_client_flows_opened_total{client=\"3\",serial=\"emulator-5554\","
                  "protocol=\"tcp\"}"],
            "7");
  EXPECT_EQ(found["rtether_client_open_flows{client=\"3\",serial=\"emulator-5554\"}"], "2");
}

TEST(RelayMetrics, DeviceSamplesSurviveTheirClients) {
  auto found = samples(format_metrics(example()));
  EXPECT_EQ(found["rtether_device_bytes_total{serial=\"emulator-5554\",direction=\"to_device\"}"],
            "5000");
  EXPECT_EQ(found["rtether_device_drops_total{serial=\"emulator-5554\","
                  "reason=\"dns_answer_lost\"}"],
            "1");
  EXPECT_EQ(found["rtether_device_connected{serial=\"emulator-5554\"}"], "1");
  EXPECT_EQ(found["rtether_device_connected{serial=\"0123456789ABCDEF\"}"], "0");
  EXPECT_EQ(found["rtether_device_connections_total{serial=\"emulator-5554\"}"], "3");
  EXPECT_EQ(found["rtether_device_reconnects_total{serial=\"emulator-5554\"}"], "2");
  EXPECT_EQ(found["rtether_device_open_flows{serial=\"emulator-5554\"}"], "2");
}

TEST(RelayMetrics, RelayWideTotalsAndProcessGauges) {
  auto found = samples(format_metrics(example()));
  EXPECT_EQ(found["rtether_sessions"], "2");
  EXPECT_EQ(found["rtether_open_flows"], "2");
  EXPECT_EQ(found["process_open_fds"], "17");
  EXPECT_EQ(found["process_resident_memory_bytes"], "4096000");
  EXPECT_EQ(found["rtether_bytes_total{direction=\"to_device\"}"], "6234");
  EXPECT_EQ(found["rtether_dns_timeouts_total"], "8");
}

TEST(RelayMetrics, UnknownProcessFiguresAreLeftOut) {
  MetricsSnapshot snapshot = example();
  snapshot.process = io::ProcessUsage{};
  std::string text = format_metrics(snapshot);
  EXPECT_EQ(text.find("process_"), std::string::npos);
}

TEST(RelayMetrics, EveryCounterOfTheTableIsInEachScopeOnce) {
  // Each counter set to its own value: each value appears once per scope.
  std::uint64_t next = 1000;
  Counters distinct;
#define RTETHER_SET_DISTINCT(name, meaning) distinct.name = next++;
  RTETHER_RELAY_COUNTERS(RTETHER_SET_DISTINCT)
#undef RTETHER_SET_DISTINCT
  MetricsSnapshot snapshot;
  snapshot.totals = distinct;
  snapshot.clients.push_back(ClientStats{});
  snapshot.clients.back().counters = distinct;
  snapshot.devices.push_back(DeviceStats{});
  snapshot.devices.back().serial = "s";
  snapshot.devices.back().counters = distinct;
  std::map<std::string, std::multiset<std::string>> values_by_scope;
  for (const auto& [name, value] : samples(format_metrics(snapshot))) {
    if (name.find("_total") == std::string::npos) continue;
    std::string scope = name.starts_with("rtether_client_")   ? "client"
                        : name.starts_with("rtether_device_") ? "device"
                                                              : "relay";
    values_by_scope[scope].insert(value);
  }
  for (const auto& scope : {"relay", "client", "device"})
    for (std::uint64_t value = 1000; value < next; ++value)
      EXPECT_EQ(values_by_scope[scope].count(std::to_string(value)), 1u) << scope << " " << value;
}

TEST(RelayMetrics, EachFamilyHasOneHelpAndOneTypeBeforeItsSamples) {
  std::string text = format_metrics(example());
  std::istringstream lines(text);
  std::set<std::string> typed;
  std::string current;
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("# HELP ")) continue;
    if (line.starts_with("# TYPE ")) {
      std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(typed.insert(name).second) << name;
      current = name;
      continue;
    }
    EXPECT_EQ(line.substr(0, line.find_first_of("{ ")), current) << line;
  }
}

}  // namespace
}  // namespace rtether::relay
