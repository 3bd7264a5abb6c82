// PrometheusText: the text exposition format 0.0.4, byte for byte.
#include "wire/prometheus_text.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace rtether::wire {
namespace {

TEST(PrometheusText, FamilyHasHelpTypeAndSamples) {
  PrometheusText text;
  text.family("rtether_client_bytes_total", MetricType::Counter, "Bytes of IP packets");
  text.sample({{"client", "0"}, {"direction", "to_device"}}, std::uint64_t{1234});
  text.sample({{"client", "0"}, {"direction", "from_device"}}, std::uint64_t{0});
  text.family("rtether_sessions", MetricType::Gauge, "Client sessions live now");
  text.sample({}, std::uint64_t{2});
  EXPECT_EQ(text.text(),
            "# HELP rtether_client_bytes_total Bytes of IP packets\n"
            "# TYPE rtether_client_bytes_total counter\n"
            "rtether_client_bytes_total{client=\"0\",direction=\"to_device\"} 1234\n"
            "rtether_client_bytes_total{client=\"0\",direction=\"from_device\"} 0\n"
            "# HELP rtether_sessions Client sessions live now\n"
            "# TYPE rtether_sessions gauge\n"
            "rtether_sessions 2\n");
}

TEST(PrometheusText, LabelValuesEscapeBackslashQuoteAndLineFeed) {
  PrometheusText text;
  text.family("m", MetricType::Gauge, "h");
  text.sample({{"serial", "a\\b\"c\nd"}}, std::uint64_t{1});
  EXPECT_EQ(text.text(), "# HELP m h\n# TYPE m gauge\nm{serial=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(PrometheusText, HelpEscapesBackslashAndLineFeedButNotQuotes) {
  PrometheusText text;
  text.family("m", MetricType::Gauge, "say \"hi\"\\\nnext");
  EXPECT_EQ(text.text(), "# HELP m say \"hi\"\\\\\\nnext\n# TYPE m gauge\n");
}

TEST(PrometheusText, LargeCountersKeepEveryDigit) {
  PrometheusText text;
  text.family("c_total", MetricType::Counter, "h");
  text.sample({}, std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(text.text(),
            "# HELP c_total h\n# TYPE c_total counter\nc_total "
            "18446744073709551615\n");
}

TEST(PrometheusText, FloatsUseGoSpellingsForNonFiniteValues) {
  PrometheusText text;
  text.family("g", MetricType::Gauge, "h");
  text.sample({}, 0.25);
  text.sample({{"k", "a"}}, std::numeric_limits<double>::infinity());
  text.sample({{"k", "b"}}, -std::numeric_limits<double>::infinity());
  text.sample({{"k", "c"}}, std::nan(""));
  EXPECT_EQ(text.text(),
            "# HELP g h\n# TYPE g gauge\ng 0.25\ng{k=\"a\"} "
            "+Inf\ng{k=\"b\"} -Inf\ng{k=\"c\"} NaN\n");
}

TEST(PrometheusText, LabelsFromASpan) {
  PrometheusText text;
  text.family("g", MetricType::Gauge, "h");
  std::vector<MetricLabel> labels{{"a", "1"}, {"b", "2"}};
  text.sample(labels, std::uint64_t{3});
  EXPECT_EQ(text.take(), "# HELP g h\n# TYPE g gauge\ng{a=\"1\",b=\"2\"} 3\n");
}

TEST(PrometheusText, NamesFollowTheDataModel) {
  EXPECT_TRUE(is_metric_name("rtether:bytes_total"));
  EXPECT_TRUE(is_metric_name("_x9"));
  EXPECT_FALSE(is_metric_name(""));
  EXPECT_FALSE(is_metric_name("9x"));
  EXPECT_FALSE(is_metric_name("a-b"));
  EXPECT_TRUE(is_label_name("serial"));
  EXPECT_FALSE(is_label_name("a:b"));
  EXPECT_FALSE(is_label_name("__name__"));
  EXPECT_FALSE(is_label_name("1a"));
}

TEST(PrometheusText, BadNamesAndOrderAreProgrammingErrors) {
  PrometheusText text;
  EXPECT_THROW(text.sample({}, std::uint64_t{1}), std::invalid_argument);
  EXPECT_THROW(text.family("bad-name", MetricType::Gauge, "h"), std::invalid_argument);
  EXPECT_THROW(text.family("bytes", MetricType::Counter, "h"), std::invalid_argument);
  text.family("g", MetricType::Gauge, "h");
  EXPECT_THROW(text.sample({{"bad-label", "x"}}, std::uint64_t{1}), std::invalid_argument);
}

}  // namespace
}  // namespace rtether::wire
