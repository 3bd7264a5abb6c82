// PrometheusText: writes the Prometheus text exposition format, version
// 0.0.4 (Prometheus docs, "Exposition formats", text-based format): one
// `# HELP` and one `# TYPE` line per metric family, then its samples, each
// family's samples together. Counter families are named with their `_total`
// suffix (the text format keeps it in the family name; OpenMetrics would
// not). Label values are escaped (backslash, double quote, line feed), help
// texts too (backslash, line feed).
//
// Names are the writer's own constants, so a name that is not a valid
// metric or label name is a programming error: it throws
// std::invalid_argument rather than emitting text a scraper refuses.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace rtether::wire {

enum class MetricType { Counter, Gauge };

struct MetricLabel {
  std::string_view name;
  std::string_view value;
};

// The content type of the text format, for the HTTP response.
inline constexpr std::string_view kPrometheusTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";

class PrometheusText {
 public:
  // Starts a family; the samples written next belong to it. A counter's
  // name must end in "_total".
  void family(std::string_view name, MetricType type, std::string_view help);
  void sample(std::span<const MetricLabel> labels, std::uint64_t value);
  void sample(std::span<const MetricLabel> labels, double value);
  void sample(std::initializer_list<MetricLabel> labels, std::uint64_t value) {
    sample(std::span<const MetricLabel>(labels.begin(), labels.size()), value);
  }
  void sample(std::initializer_list<MetricLabel> labels, double value) {
    sample(std::span<const MetricLabel>(labels.begin(), labels.size()), value);
  }

  const std::string& text() const { return text_; }
  std::string take() { return std::move(text_); }

 private:
  void write_sample_name(std::span<const MetricLabel> labels);

  std::string text_;
  std::string family_;
};

// [a-zA-Z_:][a-zA-Z0-9_:]* and [a-zA-Z_][a-zA-Z0-9_]* (the data model's
// rules; label names starting "__" are reserved).
bool is_metric_name(std::string_view name);
bool is_label_name(std::string_view name);

}  // namespace rtether::wire
