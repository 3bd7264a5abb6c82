// Prometheus text exposition writer; see prometheus_text.hpp.
#include "wire/prometheus_text.hpp"

#include <fmt/core.h>

#include <cmath>
#include <stdexcept>

namespace rtether::wire {

namespace {

bool is_name_char(char c, bool colon_allowed, bool digit_allowed) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (c >= '0' && c <= '9') return digit_allowed;
  return c == ':' && colon_allowed;
}

bool is_name(std::string_view name, bool colon_allowed) {
  if (name.empty() || !is_name_char(name.front(), colon_allowed, false)) return false;
  for (char c : name.substr(1))
    if (!is_name_char(c, colon_allowed, true)) return false;
  return true;
}

// HELP text escapes backslash and line feed; label values also the double
// quote.
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

}  // namespace

bool is_metric_name(std::string_view name) { return is_name(name, true); }

bool is_label_name(std::string_view name) {
  return is_name(name, false) && !name.starts_with("__");
}

void PrometheusText::family(std::string_view name, MetricType type, std::string_view help) {
  if (!is_metric_name(name)) throw std::invalid_argument(fmt::format("bad metric name '{}'", name));
  if (type == MetricType::Counter && !name.ends_with("_total"))
    throw std::invalid_argument(fmt::format("counter '{}' does not end in _total", name));
  family_ = name;
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  append_escaped(text_, help, false);
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += type == MetricType::Counter ? " counter\n" : " gauge\n";
}

void PrometheusText::write_sample_name(std::span<const MetricLabel> labels) {
  if (family_.empty()) throw std::invalid_argument("sample before any family");
  text_ += family_;
  if (labels.empty()) return;
  char separator = '{';
  for (const auto& label : labels) {
    if (!is_label_name(label.name))
      throw std::invalid_argument(fmt::format("bad label name '{}'", label.name));
    text_ += separator;
    text_ += label.name;
    text_ += "=\"";
    append_escaped(text_, label.value, true);
    text_ += '"';
    separator = ',';
  }
  text_ += '}';
}

void PrometheusText::sample(std::span<const MetricLabel> labels, std::uint64_t value) {
  write_sample_name(labels);
  text_ += fmt::format(" {}\n", value);
}

void PrometheusText::sample(std::span<const MetricLabel> labels, double value) {
  write_sample_name(labels);
  // Go's ParseFloat spellings for the values that have no digits.
  if (std::isnan(value)) {
    text_ += " NaN\n";
  } else if (std::isinf(value)) {
    text_ += value > 0 ? " +Inf\n" : " -Inf\n";
  } else {
    text_ += fmt::format(" {}\n", value);
  }
}

}  // namespace rtether::wire
