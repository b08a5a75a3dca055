// The Prometheus exposition of a run's numbers (--metrics-listen, --metrics-push): the
// counters as counted, histograms whose buckets add up, the format's rules.
#include "report/metrics.hpp"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>

#include "core/exposition.hpp"

namespace gmsim {
namespace {

// name{labels} -> value, of every sample line; the families declared, in order.
struct parsed {
  std::map<std::string, double> samples;
  std::vector<std::string> families;
};

parsed parse(const std::string& text) {
  parsed out;
  std::istringstream lines(text);
  std::string line;
  const std::regex sample(R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+))");
  const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram))");
  while (std::getline(lines, line)) {
    std::smatch m;
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (std::regex_match(line, m, type)) {
      out.families.push_back(m[1]);
      continue;
    }
    EXPECT_TRUE(std::regex_match(line, m, sample)) << "not a sample line: " << line;
    if (m.empty()) continue;
    // A sample belongs to the family declared last (histograms: _bucket, _sum, _count).
    const std::string name = m[1];
    EXPECT_FALSE(out.families.empty()) << line;
    if (!out.families.empty()) {
      EXPECT_EQ(name.rfind(out.families.back(), 0), 0u)
          << line << " after TYPE " << out.families.back();
    }
    out.samples[name + m[2].str()] = std::stod(m[3]);
  }
  return out;
}

metrics_labels some_labels() {
  return {"run", "quickstart", "7", "webhook", "1/1", "http://127.0.0.1:1/webhook", 30};
}

TEST(metrics, the_counters_are_the_runs_own) {
  run_stats s;
  const request_outcome ok{outcome_kind::delivered, 200, failure_kind::none, ""};
  const request_outcome refused{outcome_kind::rejected, 503, failure_kind::none, "busy"};
  const request_outcome timeout{outcome_kind::unacknowledged, 0, failure_kind::timeout, "timeout"};
  s.count_answer(ok, webhook_type::rules, 7, 700, 1500, 1200);
  s.count_answer(refused, webhook_type::variables, 3, 300, 900, 800);
  s.count_answer(timeout, webhook_type::session, 2, 200, 30'000'000, 30'000'000);
  s.count_unsent(webhook_type::rules, 4);
  s.rows_by_type[1] = 11;
  const std::string text = prometheus_text(some_labels(), {s, 12, 1, false});
  const parsed p = parse(text);
  EXPECT_EQ(p.samples.at(R"(gmsim_rows_total{type="rules",outcome="delivered"})"), 7);
  EXPECT_EQ(p.samples.at(R"(gmsim_rows_total{type="rules",outcome="unsent"})"), 4);
  EXPECT_EQ(p.samples.at(R"(gmsim_rows_total{type="variables",outcome="rejected"})"), 3);
  EXPECT_EQ(p.samples.at(R"(gmsim_rows_total{type="session",outcome="unacknowledged"})"), 2);
  EXPECT_EQ(p.samples.at(R"(gmsim_requests_total{type="rules",outcome="delivered"})"), 1);
  EXPECT_EQ(p.samples.at(R"(gmsim_requests_total{type="rules",outcome="unsent"})"), 1);
  EXPECT_EQ(p.samples.at(R"(gmsim_requests_total{type="variables",outcome="rejected"})"), 1);
  EXPECT_EQ(p.samples.at(R"(gmsim_requests_total{type="session",outcome="delivered"})"), 0);
  EXPECT_EQ(p.samples.at(R"(gmsim_rows_generated_total{type="rules"})"), 11);
  EXPECT_EQ(p.samples.at(R"(gmsim_responses_total{status="200"})"), 1);
  EXPECT_EQ(p.samples.at(R"(gmsim_responses_total{status="503"})"), 1);
  EXPECT_EQ(p.samples.at(R"(gmsim_request_errors_total{kind="timeout"})"), 1);
  EXPECT_EQ(p.samples.at("gmsim_sent_bytes_total"), 1200);
  EXPECT_EQ(p.samples.at("gmsim_queued_rows"), 12);
  EXPECT_EQ(p.samples.at("gmsim_requests_in_flight"), 1);
  EXPECT_EQ(p.samples.at("gmsim_run_finished"), 0);
  EXPECT_EQ(p.samples.at("gmsim_run_duration_seconds"), 30);
  // Every request of the traffic and every row is in exactly one series.
  double requests = 0, rows = 0;
  for (const auto& [key, value] : p.samples) {
    if (key.rfind("gmsim_requests_total{", 0) == 0) requests += value;
    if (key.rfind("gmsim_rows_total{", 0) == 0) rows += value;
  }
  EXPECT_EQ(requests, static_cast<double>(s.requests_attempted + s.requests_unsent));
  EXPECT_EQ(rows, 7 + 3 + 2 + 4);
  EXPECT_EQ(prometheus_text(some_labels(), {s, 0, 0, true}).find("gmsim_run_finished 1\n") !=
                std::string::npos,
            true);
}

TEST(metrics, histogram_buckets_add_up_to_the_count_in_seconds) {
  run_counters c;
  for (const std::int64_t us : {50, 150, 2'000, 200'000'000}) c.latency_buckets.record(us);
  const parsed p = parse(prometheus_text(some_labels(), {c, 0, 0, false}));
  const std::string name = "gmsim_request_latency_seconds";
  EXPECT_EQ(p.samples.at(name + R"(_bucket{le="0.0001"})"), 1);    // 50 µs
  EXPECT_EQ(p.samples.at(name + R"(_bucket{le="0.000178"})"), 2);  // 150 µs
  EXPECT_EQ(p.samples.at(name + R"(_bucket{le="0.001"})"), 2);
  EXPECT_EQ(p.samples.at(name + R"(_bucket{le="0.003162"})"), 3);  // 2 ms
  EXPECT_EQ(p.samples.at(name + R"(_bucket{le="56.2341"})"), 3);   // 200 s is past the last
  EXPECT_EQ(p.samples.at(name + R"(_bucket{le="+Inf"})"), 4);
  EXPECT_EQ(p.samples.at(name + "_count"), 4);
  EXPECT_DOUBLE_EQ(p.samples.at(name + "_sum"), (50 + 150 + 2'000 + 200'000'000) * 1e-6);
  // Cumulative: never fewer at a higher bound, in every histogram.
  const std::string text = prometheus_text(some_labels(), {c, 0, 0, false});
  std::istringstream lines(text);
  std::string line;
  const std::regex bucket(R"re((\w+)_bucket\{le="([^"]+)"\} (\d+))re");
  std::string family;
  double previous = -1;
  int buckets = 0;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (!std::regex_match(line, m, bucket)) continue;
    if (m[1] != family) {
      family = m[1];
      previous = -1;
      buckets = 0;
    }
    EXPECT_GE(std::stod(m[3]), previous) << line;
    previous = std::stod(m[3]);
    buckets += 1;
  }
  EXPECT_EQ(buckets, 25);  // 24 bounds, 100 µs to 56 s, and +Inf
}

TEST(metrics, lag_is_in_seconds_of_scenario_time) {
  run_counters c;
  c.lag_buckets.record(250);     // ms
  c.lag_buckets.record(61'000);  // a minute late
  const parsed p = parse(prometheus_text(some_labels(), {c, 0, 0, false}));
  EXPECT_EQ(p.samples.at(R"(gmsim_delivery_lag_seconds_bucket{le="0.316"})"), 1);
  EXPECT_EQ(p.samples.at(R"(gmsim_delivery_lag_seconds_bucket{le="56.234"})"), 1);
  EXPECT_EQ(p.samples.at(R"(gmsim_delivery_lag_seconds_bucket{le="100"})"), 2);
  EXPECT_DOUBLE_EQ(p.samples.at("gmsim_delivery_lag_seconds_sum"), 61.25);
}

// A replay's labels come from its recording: before it is read there is no gmsim_info,
// rather than one with empty labels that would stay a series of its own.
TEST(metrics, no_info_until_the_labels_are_known) {
  const std::string before = prometheus_text(metrics_labels{}, {run_counters{}, 0, 0, false});
  EXPECT_EQ(before.find("gmsim_info"), std::string::npos);
  EXPECT_NE(before.find("gmsim_run_finished 0\n"), std::string::npos);
  EXPECT_NE(prometheus_text(some_labels(), {run_counters{}, 0, 0, false})
                .find("gmsim_info{command=\"run\""),
            std::string::npos);
}

TEST(metrics, label_values_are_escaped) {
  EXPECT_EQ(prometheus_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  metrics_labels l = some_labels();
  l.profile = "my \"odd\"\nprofile";
  const std::string text = prometheus_text(l, {run_counters{}, 0, 0, false});
  EXPECT_NE(text.find(R"(profile="my \"odd\"\nprofile")"), std::string::npos) << text;
  parse(text);  // every line still a sample or a comment
}

}  // namespace
}  // namespace gmsim
