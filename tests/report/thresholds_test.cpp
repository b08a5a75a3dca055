#include "report/thresholds.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "net/receiver.hpp"
#include "run/runner.hpp"
#include "test_support.hpp"

namespace gmsim {
namespace {

using json = nlohmann::json;

// A summary as summary_json() writes it, with numbers easy to check by hand.
json sample_summary() {
  return json::parse(R"({
    "version": "0.1.0", "profile": "sample", "seed": 7, "shard": "1/1", "dry_run": false,
    "duration_ms": 60000, "wall_seconds": 20.0,
    "requests": {"attempted": 200, "delivered": 190, "rejected": 6, "failed": 4, "unsent": 1,
                 "by_status": {"200": 190, "404": 1, "413": 2, "500": 2, "503": 1},
                 "by_error": {"timeout": 3, "reset": 1}},
    "rows": {"generated": 5000, "delivered": 4800, "rejected": 120, "failed": 60, "unsent": 20,
             "lost": 200, "unacknowledged": 0},
    "auth_probes": {"sent": 2, "accepted": 1, "rows": 0},
    "latency_ms": {"p50": 1.5, "p90": 4.25, "p99": 12.3, "p999": 40.0, "max": 51.2},
    "latency_uncorrected_ms": {"p50": 1.0, "p90": 3.0, "p99": 10.0, "p999": 30.0, "max": 50.0},
    "delivery_lag_ms": {"p50": 30000, "p90": 55000, "p99": 59000, "max": 60500},
    "start_delay_ms": {"p50": 0.2, "p90": 0.8, "p99": 1.75, "max": 9.5},
    "receiver": {"invalid": 2, "gap_violations": 0},
    "thresholds": []
  })");
}

std::string parse_error(const std::string& text) {
  try {
    parse_threshold(text);
  } catch (const threshold_error& e) {
    return e.what();
  }
  return "(parsed)";
}

std::optional<double> value_of(const std::string& expr, const json& summary) {
  return evaluate_threshold(parse_threshold(expr), summary).value;
}

TEST(thresholds_parse, every_operator) {
  const std::pair<const char*, threshold_op> cases[] = {{"p99<5", threshold_op::lt},
                                                        {"p99<=5", threshold_op::le},
                                                        {"p99>5", threshold_op::gt},
                                                        {"p99>=5", threshold_op::ge},
                                                        {"p99==5", threshold_op::eq}};
  for (const auto& [text, op] : cases) {
    auto t = parse_threshold(text);
    EXPECT_EQ(t.op, op) << text;
    EXPECT_EQ(t.value, 5) << text;
    EXPECT_EQ(to_string(t.op), std::string(text).substr(3, std::string(text).size() - 4));
  }
}

TEST(thresholds_parse, units_and_spaces) {
  auto t = parse_threshold("  p99 <= 1.5 s ");
  EXPECT_EQ(t.expr, "p99 <= 1.5 s");
  EXPECT_EQ(t.metric, "p99");
  EXPECT_EQ(t.kind, metric_kind::time_ms);
  EXPECT_EQ(t.value, 1500);
  EXPECT_EQ(parse_threshold("p99<500ms").value, 500);
  EXPECT_EQ(parse_threshold("p99 < 500 ms").value, 500);
  EXPECT_EQ(parse_threshold("lag_max<250").value, 250);  // no unit: ms
  EXPECT_EQ(parse_threshold("error_rate<1%").value, 0.01);
  EXPECT_EQ(parse_threshold("error_rate < 0.5 %").value, 0.005);
  EXPECT_EQ(parse_threshold("error_rate<0.02").value, 0.02);  // no unit: a ratio
  EXPECT_EQ(parse_threshold("lost_rows==0").kind, metric_kind::count);
  EXPECT_EQ(parse_threshold("rps>=12.5").kind, metric_kind::per_second);
  EXPECT_EQ(parse_threshold("rps>=12.5").value, 12.5);
  EXPECT_EQ(parse_threshold("p99<.5").value, 0.5);
}

TEST(thresholds_parse, aliases_resolve_to_the_canonical_metric) {
  EXPECT_EQ(parse_threshold("latency_p50<1s").metric, "p50");
  EXPECT_EQ(parse_threshold("latency_p90<1s").metric, "p90");
  EXPECT_EQ(parse_threshold("latency_p99<1s").metric, "p99");
  EXPECT_EQ(parse_threshold("latency_p999<1s").metric, "p999");
  EXPECT_EQ(parse_threshold("latency_max<1s").metric, "max");
  EXPECT_EQ(parse_threshold("latency_p99<1s").expr, "latency_p99<1s");
  EXPECT_EQ(canonical_metric("uncorrected_p99"), "uncorrected_p99");
  EXPECT_EQ(canonical_metric("p95"), "");
}

TEST(thresholds_parse, errors_name_the_expression_and_the_reason) {
  EXPECT_EQ(parse_error(" "), "empty expression: expected METRIC OP VALUE, such as p99<500ms");
  EXPECT_EQ(parse_error("<5"), "'<5': expected a metric name first, such as p99<500ms");
  EXPECT_EQ(parse_error("lost_row==0"),
            "'lost_row==0': unknown metric 'lost_row' (did you mean 'lost_rows'? docs/reports.md "
            "lists them)");
  EXPECT_EQ(parse_error("eror_rate<1%"),
            "'eror_rate<1%': unknown metric 'eror_rate' (did you mean 'error_rate'? "
            "docs/reports.md lists them)");
  EXPECT_EQ(parse_error("P99<5ms"),
            "'P99<5ms': unknown metric 'P99' (did you mean 'p99'? docs/reports.md lists them)");
  EXPECT_EQ(parse_error("p99"),
            "'p99': expected an operator (<, <=, >, >= or ==) after 'p99', got nothing");
  EXPECT_EQ(parse_error("p99 500ms"),
            "'p99 500ms': expected an operator (<, <=, >, >= or ==) after 'p99', got '500ms'");
  EXPECT_EQ(parse_error("p99=500ms"), "'p99=500ms': bad operator '=': use <, <=, >, >= or ==");
  EXPECT_EQ(parse_error("p99=<5"), "'p99=<5': bad operator '=<': use <, <=, >, >= or ==");
  EXPECT_EQ(parse_error("p99!=5"), "'p99!=5': bad operator '!=': use <, <=, >, >= or ==");
  EXPECT_EQ(parse_error("p99<<5"), "'p99<<5': bad operator '<<': use <, <=, >, >= or ==");
  EXPECT_EQ(parse_error("p99<"), "'p99<': expected a number after '<', got nothing");
  EXPECT_EQ(parse_error("p99<fast"), "'p99<fast': expected a number after '<', got 'fast'");
  EXPECT_EQ(parse_error("p99<-5ms"), "'p99<-5ms': expected a number after '<', got '-5ms'");
  EXPECT_EQ(parse_error("p99<1.2.3ms"),
            "'p99<1.2.3ms': expected a number after '<', got '1.2.3ms'");
  EXPECT_EQ(parse_error("p99<5min"), "'p99<5min': unknown unit 'min': use ms, s, % or none");
  EXPECT_EQ(parse_error("p99<5 ms x"), "'p99<5 ms x': unknown unit 'ms x': use ms, s, % or none");
  EXPECT_EQ(parse_error("error_rate<5ms"),
            "'error_rate<5ms': 'error_rate' is a ratio: use % or no unit (0.01 = 1%), not 'ms'");
  EXPECT_EQ(parse_error("p99<5%"), "'p99<5%': 'p99' is a time: use ms, s or no unit (ms), not '%'");
  EXPECT_EQ(parse_error("lost_rows<1%"),
            "'lost_rows<1%': 'lost_rows' is a count: use no unit, not '%'");
  EXPECT_EQ(parse_error("rps>100s"),
            "'rps>100s': 'rps' is a rate per second: use no unit, not 's'");
  EXPECT_EQ(parse_error("error_rate<5"),
            "'error_rate<5': 'error_rate' is a ratio in [0, 1]: write 5% for a percentage");
}

// Found in the fuzzing work (docs/fuzzing.md; tests/fuzz/corpus/threshold/regression-*): a number
// that fits a double but not once in ms became an infinite bound, which always passes.
TEST(thresholds_parse, a_bound_too_large_in_ms_is_refused) {
  const std::string huge(308, '9');
  EXPECT_EQ(parse_error("p99<" + huge + "s"),
            "'p99<" + huge + "s': the number " + huge + " is too large");
  EXPECT_EQ(parse_threshold("p99<" + huge + "ms").value, 1e308);
}

TEST(thresholds_evaluate, every_metric_from_the_summary) {
  const std::map<std::string, double> expected = {{"p50", 1.5},
                                                  {"p90", 4.25},
                                                  {"p99", 12.3},
                                                  {"p999", 40},
                                                  {"max", 51.2},
                                                  {"uncorrected_p50", 1},
                                                  {"uncorrected_p90", 3},
                                                  {"uncorrected_p99", 10},
                                                  {"uncorrected_p999", 30},
                                                  {"uncorrected_max", 50},
                                                  {"lag_p50", 30000},
                                                  {"lag_p90", 55000},
                                                  {"lag_p99", 59000},
                                                  {"lag_max", 60500},
                                                  {"sender_lateness_p99", 1.75},
                                                  {"sender_lateness_max", 9.5},
                                                  {"error_rate", 0.05},
                                                  {"lost_rows", 200},
                                                  {"lost_rate", 0.04},
                                                  {"delivered_rows", 4800},
                                                  {"delivered_rate", 0.96},
                                                  {"requests", 200},
                                                  {"rps", 10},
                                                  {"rows_per_second", 240},
                                                  {"rejected_requests", 6},
                                                  {"failed_requests", 4},
                                                  {"status_4xx", 3},
                                                  {"status_5xx", 3},
                                                  {"timeouts", 3},
                                                  {"unacknowledged_rows", 0},
                                                  {"auth_probes_accepted", 1},
                                                  {"gap_violations", 0},
                                                  {"invalid_bodies", 2}};
  auto summary = sample_summary();
  std::set<std::string> documented;
  for (const auto& m : threshold_metrics()) {
    documented.insert(std::string(m.name));
    EXPECT_FALSE(m.meaning.empty()) << m.name;
  }
  std::set<std::string> tested;
  for (const auto& [name, value] : expected) tested.insert(name);
  EXPECT_EQ(documented, tested) << "a metric without a test, or a test of no metric";
  for (const auto& [name, value] : expected) {
    auto v = value_of(name + ">=0", summary);
    ASSERT_TRUE(v.has_value()) << name;
    EXPECT_DOUBLE_EQ(*v, value) << name;
  }
}

TEST(thresholds_evaluate, operators_compare_in_the_metrics_unit) {
  auto s = sample_summary();
  auto ok = [&](const char* expr) { return evaluate_threshold(parse_threshold(expr), s).ok; };
  EXPECT_FALSE(ok("p99<12.3"));
  EXPECT_TRUE(ok("p99<=12.3"));
  EXPECT_FALSE(ok("p99>12.3"));
  EXPECT_TRUE(ok("p99>=12.3"));
  EXPECT_TRUE(ok("p99==12.3ms"));
  EXPECT_TRUE(ok("lag_max<61s"));
  EXPECT_FALSE(ok("lag_max<60s"));
  EXPECT_TRUE(ok("error_rate==5%"));
  EXPECT_FALSE(ok("error_rate<1%"));
  EXPECT_TRUE(ok("delivered_rate>95%"));
  EXPECT_FALSE(ok("lost_rows==0"));
  EXPECT_TRUE(ok("gap_violations==0"));
}

TEST(thresholds_evaluate, dry_run_rates_are_per_simulated_second) {
  auto s = sample_summary();
  s["dry_run"] = true;  // 60 s simulated, whatever the wall clock
  EXPECT_DOUBLE_EQ(*value_of("rps>0", s), 200.0 / 60);
  EXPECT_DOUBLE_EQ(*value_of("rows_per_second>0", s), 4800.0 / 60);
}

TEST(thresholds_evaluate, empty_runs_and_missing_sections) {
  auto s = sample_summary();
  s["requests"] = {{"attempted", 0},
                   {"delivered", 0},
                   {"rejected", 0},
                   {"failed", 0},
                   {"by_status", json::object()},
                   {"by_error", json::object()}};
  s["rows"] = {{"generated", 0}, {"delivered", 0}};
  s["wall_seconds"] = 0;
  s.erase("receiver");
  s["latency_ms"].erase("p999");
  EXPECT_EQ(value_of("error_rate<1%", s), 0.0);
  EXPECT_EQ(value_of("lost_rate<1%", s), 0.0);
  EXPECT_EQ(value_of("delivered_rate>99%", s), 1.0);
  EXPECT_EQ(value_of("timeouts==0", s), 0.0);
  EXPECT_EQ(value_of("status_5xx==0", s), 0.0);
  EXPECT_EQ(value_of("rps>0", s), 0.0);
  for (const char* expr : {"gap_violations==0", "invalid_bodies==0"}) {
    auto r = evaluate_threshold(parse_threshold(expr), s);
    EXPECT_FALSE(r.ok) << expr;
    EXPECT_FALSE(r.value) << expr;
    EXPECT_EQ(r.note,
              "not applicable: no embedded receiver counted this run (it runs only in a live run "
              "without --target)");
  }
  auto r = evaluate_threshold(parse_threshold("p999<1s"), s);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.note, "not applicable: the summary has no number at /latency_ms/p999");
}

TEST(thresholds_report, summary_array_and_console_lines) {
  auto s = sample_summary();
  auto results = evaluate_thresholds({parse_threshold("p99<500ms"), parse_threshold("lost_rows==0"),
                                      parse_threshold("error_rate<10%"), parse_threshold("rps>5")},
                                     s);
  EXPECT_FALSE(all_passed(results));
  s.erase("receiver");
  results.push_back(evaluate_threshold(parse_threshold("gap_violations==0"), s));
  add_thresholds(s, results);
  const auto& list = s["thresholds"];
  ASSERT_EQ(list.size(), 5u);
  EXPECT_EQ(list[0], json::parse(R"({"expr":"p99<500ms","ok":true,"value":12.3,"metric":"p99"})"));
  EXPECT_EQ(list[1],
            json::parse(R"({"expr":"lost_rows==0","ok":false,"value":200,"metric":"lost_rows"})"));
  EXPECT_TRUE(list[1]["value"].is_number_integer());
  EXPECT_EQ(list[2]["value"], 0.05);
  EXPECT_TRUE(list[4]["value"].is_null());
  EXPECT_EQ(list[4]["ok"], false);
  EXPECT_TRUE(list[4]["note"].get<std::string>().starts_with("not applicable"));

  EXPECT_EQ(
      thresholds_text(results),
      "\n  thresholds\n"
      "    ✓ p99<500ms  (p99 = 12.30ms)\n"
      "    ✗ lost_rows==0  (lost_rows = 200)\n"
      "    ✓ error_rate<10%  (error_rate = 5%)\n"
      "    ✓ rps>5  (rps = 10.0/s)\n"
      "    ✗ gap_violations==0  (gap_violations: not applicable: no embedded receiver counted "
      "this run (it runs only in a live run without --target))\n");
  EXPECT_EQ(thresholds_text({}), "");
}

// Issue 18: a timeout is unacknowledged, not lost; an auth probe is a check of its own.
TEST(thresholds_evaluate, unacknowledged_rows_are_errors_but_not_lost_and_probes_are_apart) {
  json s = json::parse(R"({
    "dry_run": false,
    "requests": {"attempted": 100, "delivered": 90, "rejected": 0, "failed": 0,
                 "unacknowledged": 10, "by_error": {"timeout": 10}},
    "rows": {"generated": 1010, "delivered": 900, "rejected": 0, "failed": 0,
             "unacknowledged": 100, "unsent": 0, "auth_probes": 10, "lost": 0},
    "auth_probes": {"sent": 2, "accepted": 0, "rows": 10}
  })");
  EXPECT_EQ(value_of("lost_rows==0", s), 0);
  EXPECT_EQ(value_of("unacknowledged_rows==0", s), 100);
  EXPECT_DOUBLE_EQ(*value_of("error_rate<1%", s), 0.1);
  EXPECT_DOUBLE_EQ(*value_of("delivered_rate>0", s), 0.9);  // of the traffic: probes apart
  EXPECT_EQ(value_of("auth_probes_accepted==0", s), 0);
  s["auth_probes"]["accepted"] = 2;
  EXPECT_FALSE(evaluate_threshold(parse_threshold("auth_probes_accepted==0"), s).ok);
  // A dry run answers every request itself: it cannot tell.
  s["dry_run"] = true;
  const auto dry = evaluate_threshold(parse_threshold("auth_probes_accepted==0"), s);
  EXPECT_FALSE(dry.ok);
  EXPECT_NE(dry.note.find("a dry run"), std::string::npos) << dry.note;
  // A summary of 0.2, without the new fields, reads as before.
  json old = json::parse(R"({
    "requests": {"attempted": 10, "delivered": 8, "rejected": 1, "failed": 1},
    "rows": {"generated": 100, "delivered": 80}
  })");
  EXPECT_DOUBLE_EQ(*value_of("error_rate<1%", old), 0.2);
  EXPECT_EQ(value_of("lost_rows==0", old), 20);
  EXPECT_EQ(value_of("unacknowledged_rows==0", old), 0);
  EXPECT_EQ(value_of("auth_probes_accepted==0", old), 0);
}

// --abort-on-fail over a window: a rate or latency that fails in the last seconds stops
// the run once the grace is over, judged from the counters' difference.
TEST(thresholds_abort, rates_and_latencies_are_judged_over_the_last_window) {
  abort_watch watch({parse_threshold("p99<1s"), parse_threshold("error_rate<10%")}, 5'000, 3'000);
  run_counters c;
  auto answer = [&c](std::int64_t latency_us, bool ok, int n) {
    for (int i = 0; i < n; ++i) {
      c.requests_attempted += 1;
      (ok ? c.requests_delivered : c.requests_rejected) += 1;
      c.rows_delivered += ok ? 10 : 0;
      c.latency_buckets.record(latency_us);
    }
  };
  // Healthy for 10 s: 100 answers a second at 50 ms.
  millis t = 0;
  for (; t <= 10'000; t += 1000) {
    answer(50'000, true, 100);
    EXPECT_FALSE(watch.check(c, t).has_value()) << t;
  }
  // Then slow: 2 s answers, a fifth of the first window that holds them.
  std::optional<threshold_result> failed;
  for (; t <= 20'000 && !failed; t += 1000) {
    answer(2'000'000, true, 100);
    failed = watch.check(c, t);
  }
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->expr, "p99<1s");
  EXPECT_GE(*failed->value, 2000.0 / 1.13);  // the bucket's floor, at most 12% below
  EXPECT_LE(*failed->value, 2000.0);
  EXPECT_LE(t, 12'000);  // the first window holding >1% slow answers
  EXPECT_NE(failed->note.find("over the last"), std::string::npos) << failed->note;
  // The knee: the healthy windows delivered 1,000 rows/s; then p99<1s failed.
  const auto& knee = watch.best_passing();
  ASSERT_TRUE(knee.has_value());
  EXPECT_DOUBLE_EQ(knee->rows_per_second, 1000.0);
  EXPECT_DOUBLE_EQ(knee->requests_per_second, 100.0);
  EXPECT_EQ(knee->failed, "p99<1s");
  EXPECT_EQ(knee->failed_at, t - 1000);
  EXPECT_LE(knee->window_end, t - 2000);

  // Errors early are forgiven by the grace; errors in the window after it are not.
  abort_watch errors({parse_threshold("error_rate<10%")}, 5'000, 3'000);
  run_counters e;
  auto at = [&](millis when, int ok, int bad) {
    e.requests_attempted += ok + bad;
    e.requests_delivered += ok;
    e.requests_failed += bad;
    return errors.check(e, when);
  };
  EXPECT_FALSE(at(1000, 0, 50).has_value());  // 100% errors, in the grace
  EXPECT_FALSE(at(2000, 0, 50).has_value());
  for (millis when = 3000; when <= 9000; when += 1000) {
    EXPECT_FALSE(at(when, 100, 5).has_value()) << when;  // 5% once the window moved on
  }
  EXPECT_FALSE(at(10'000, 100, 10).has_value());  // the last 5 s: 30 of 530, 5.7%
  const auto worse = at(11'000, 20, 100);         // the last 5 s: 125 of 545, 23%
  ASSERT_TRUE(worse.has_value());
  EXPECT_EQ(worse->expr, "error_rate<10%");
  // Too few answers in the window: no verdict.
  abort_watch quiet({parse_threshold("error_rate<10%")}, 5'000, 0);
  run_counters q;
  q.requests_attempted = q.requests_failed = abort_watch::min_requests - 1;
  EXPECT_FALSE(quiet.check(run_counters{}, 0).has_value());
  EXPECT_FALSE(quiet.check(q, 1000).has_value());
}

TEST(thresholds_abort, only_monotone_counts_with_an_upper_bound_can_abort) {
  EXPECT_TRUE(can_abort(parse_threshold("lost_rows==0")));
  EXPECT_TRUE(can_abort(parse_threshold("failed_requests<10")));
  EXPECT_TRUE(can_abort(parse_threshold("status_5xx<=3")));
  EXPECT_FALSE(can_abort(parse_threshold("lost_rows>0")));
  EXPECT_FALSE(can_abort(parse_threshold("requests>=100")));
  // Rates and latencies abort over a window (abort_watch), with an upper bound only.
  EXPECT_TRUE(can_abort(parse_threshold("p99<500ms")));
  EXPECT_TRUE(can_abort(parse_threshold("error_rate<1%")));
  EXPECT_FALSE(can_abort(parse_threshold("p99>500ms")));
  EXPECT_FALSE(can_abort(parse_threshold("rps<100")));
  EXPECT_FALSE(can_abort(parse_threshold("uncorrected_p99<500ms")));
  EXPECT_FALSE(can_abort(parse_threshold("gap_violations==0")));  // not in the runner's counters
}

TEST(thresholds_abort, doomed_once_a_count_passes_its_bound) {
  run_stats s;
  std::vector<threshold> ts = {parse_threshold("lost_rows<=2"), parse_threshold("lost_rows>5"),
                               parse_threshold("p99<1ms")};
  s.rows_unsent = 50;  // known only at the end: may still be delivered
  s.rows_rejected = 2;
  EXPECT_FALSE(doomed_threshold(ts, s));
  s.rows_failed = 1;
  auto d = doomed_threshold(ts, s);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->expr, "lost_rows<=2");
  EXPECT_FALSE(d->ok);
  EXPECT_EQ(d->value, 3.0);
  EXPECT_EQ(d->note, "lost_rows is 3 already and can only grow");

  run_stats t;
  auto doomed = [&](const char* expr) {
    return doomed_threshold({parse_threshold(expr)}, t).has_value();
  };
  t.requests_attempted = 10;
  EXPECT_TRUE(doomed("requests<10"));
  EXPECT_FALSE(doomed("requests<=10"));
  EXPECT_FALSE(doomed("requests==10"));
  EXPECT_TRUE(doomed("requests==9"));
  EXPECT_FALSE(doomed("requests==11"));  // may still get there
  t.by_status[503] = 2;
  t.by_status[404] = 1;
  EXPECT_TRUE(doomed("status_5xx<2"));
  EXPECT_FALSE(doomed("status_4xx<2"));
  t.by_error[static_cast<std::size_t>(failure_kind::timeout)] = 1;
  EXPECT_TRUE(doomed("timeouts==0"));
  t.requests_rejected = 1;
  t.requests_failed = 4;
  t.rows_delivered = 7;
  EXPECT_TRUE(doomed("rejected_requests==0"));
  EXPECT_TRUE(doomed("failed_requests<=3"));
  EXPECT_TRUE(doomed("delivered_rows<7"));
}

// A live run on loopback: should_stop sees the merged counters and stops the run.
TEST(thresholds_abort, should_stop_ends_a_live_run_early) {
  receiver_config rc;
  rc.listen = "127.0.0.1:0";
  receiver target(rc);
  target.start();
  run_config c;
  c.transport.target = parse_target("http://127.0.0.1:" + std::to_string(target.port()) + "/hook");
  c.settings = testing::small_profile(2, 60'000, 5.0);
  c.settings.delivery.max_delay = 500;
  c.workers = 2;
  c.quiet = true;
  c.drain_timeout = 2'000;
  int calls = 0;
  std::int64_t seen = 0;
  c.should_stop = [&](const run_counters& so_far) {
    ++calls;
    seen = so_far.requests_attempted;
    return so_far.requests_attempted > 0;
  };
  auto result = run(c);
  EXPECT_TRUE(result.aborted);
  EXPECT_FALSE(result.interrupted);
  EXPECT_GE(calls, 1);
  EXPECT_GT(seen, 0);
  EXPECT_GE(result.stats.requests_attempted, seen);
  // 5 sessions a second over 60 s would start about 300.
  EXPECT_LT(result.stats.sessions_started, 150);
  EXPECT_EQ(result.stats.rows_generated, result.stats.rows_delivered + result.stats.rows_rejected +
                                             result.stats.rows_failed + result.stats.rows_unsent);
}

// A strict reader of the XML our writer makes: a prolog, elements, attributes in double
// quotes, text, the five entities and numeric references. Anything else is an error.
struct xml_node {
  std::string name;
  std::map<std::string, std::string> attributes;
  std::vector<xml_node> children;
  std::string text;
  std::vector<const xml_node*> all(const std::string& n) const {
    std::vector<const xml_node*> out;
    for (const auto& c : children) {
      if (c.name == n) out.push_back(&c);
    }
    return out;
  }
};

class xml_reader {
 public:
  explicit xml_reader(std::string_view doc) : doc_(doc) {}
  xml_node read() {
    const std::string_view prolog = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
    if (doc_.substr(0, prolog.size()) != prolog) fail("no prolog");
    pos_ = prolog.size();
    skip_space();
    auto root = element();
    skip_space();
    if (pos_ != doc_.size()) fail("content after the root element");
    return root;
  }

 private:
  [[noreturn]] void fail(const std::string& why) {
    throw std::runtime_error("XML at " + std::to_string(pos_) + ": " + why);
  }
  void skip_space() {
    while (pos_ < doc_.size() && std::isspace(static_cast<unsigned char>(doc_[pos_]))) ++pos_;
  }
  void expect(char c) {
    if (pos_ >= doc_.size() || doc_[pos_] != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string name() {
    auto start = pos_;
    while (pos_ < doc_.size() && (std::isalnum(static_cast<unsigned char>(doc_[pos_])) ||
                                  doc_[pos_] == '_' || doc_[pos_] == '-' || doc_[pos_] == '.')) {
      ++pos_;
    }
    if (start == pos_) fail("expected a name");
    return std::string(doc_.substr(start, pos_ - start));
  }
  // Text up to `end`, with references decoded; a raw '<' or a bare '&' is an error.
  std::string characters(char end) {
    std::string out;
    while (pos_ < doc_.size() && doc_[pos_] != end) {
      char c = doc_[pos_++];
      if (c == '<') fail("raw '<'");
      if (c == '"' && end != '<') fail("raw quote");
      if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r')
        fail("control character");
      if (c != '&') {
        out += c;
        continue;
      }
      auto semicolon = doc_.find(';', pos_);
      if (semicolon == std::string_view::npos) fail("bare '&'");
      auto ref = doc_.substr(pos_, semicolon - pos_);
      pos_ = semicolon + 1;
      static const std::map<std::string_view, char> named = {
          {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
      if (auto it = named.find(ref); it != named.end()) {
        out += it->second;
      } else if (ref.size() > 1 && ref[0] == '#' && ref[1] != 'x') {
        out += static_cast<char>(std::stoi(std::string(ref.substr(1))));  // ASCII ones only here
      } else {
        fail("unknown reference &" + std::string(ref) + ";");
      }
    }
    if (pos_ >= doc_.size()) fail("unexpected end");
    return out;
  }
  xml_node element() {
    xml_node node;
    expect('<');
    node.name = name();
    for (;;) {
      skip_space();
      if (doc_.substr(pos_, 2) == "/>") {
        pos_ += 2;
        return node;
      }
      if (pos_ < doc_.size() && doc_[pos_] == '>') break;
      auto key = name();
      expect('=');
      expect('"');
      auto value = characters('"');
      expect('"');
      if (!node.attributes.emplace(key, value).second) fail("attribute " + key + " twice");
    }
    expect('>');
    for (;;) {
      node.text += characters('<');
      if (doc_.substr(pos_, 2) == "</") {
        pos_ += 2;
        if (name() != node.name) fail("</" + node.name + "> expected");
        expect('>');
        return node;
      }
      node.children.push_back(element());
    }
  }

  std::string_view doc_;
  std::size_t pos_ = 0;
};

TEST(thresholds_xml_reader, rejects_what_is_not_well_formed) {
  auto bad = [](const std::string& body) {
    EXPECT_THROW(xml_reader("<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + body).read(),
                 std::runtime_error)
        << body;
  };
  bad("<a><b></a></b>");
  bad("<a x=\"1<2\"/>");
  bad("<a x=\"1\" x=\"2\"/>");
  bad("<a>AT&T</a>");
  bad("<a>1 < 2</a>");
  bad("<a/><b/>");
  bad("<a>");
  EXPECT_EQ(
      xml_reader("<?xml version=\"1.0\" encoding=\"UTF-8\"?><a x=\"&lt;&amp;&#10;\">t&gt;</a>")
          .read()
          .attributes["x"],
      "<&\n");
}

TEST(thresholds_junit, suites_cases_and_failures) {
  auto s = sample_summary();
  add_thresholds(
      s, evaluate_thresholds({parse_threshold("p99<10ms"), parse_threshold("lost_rows<1000")}, s));
  auto root = xml_reader(junit_xml(s)).read();
  EXPECT_EQ(root.name, "testsuites");
  EXPECT_EQ(root.attributes["tests"], "6");
  EXPECT_EQ(root.attributes["failures"], "3");  // p99, rows lost, contract faults
  EXPECT_EQ(root.attributes["time"], "20.000");
  auto suites = root.all("testsuite");
  ASSERT_EQ(suites.size(), 1u);
  const auto& suite = *suites[0];
  EXPECT_EQ(suite.attributes.at("name"), "gmsim");
  EXPECT_EQ(suite.attributes.at("tests"), "6");
  EXPECT_EQ(suite.attributes.at("failures"), "3");
  EXPECT_EQ(suite.attributes.at("errors"), "0");
  std::map<std::string, std::string> properties;
  for (const auto* p : suite.all("properties")[0]->all("property")) {
    properties[p->attributes.at("name")] = p->attributes.at("value");
  }
  EXPECT_EQ(properties["profile"], "sample");
  EXPECT_EQ(properties["seed"], "7");
  EXPECT_EQ(properties["dry_run"], "false");

  std::vector<std::string> names, failures;
  for (const auto* c : suite.all("testcase")) {
    names.push_back(c->attributes.at("classname") + "/" + c->attributes.at("name"));
    EXPECT_EQ(c->attributes.at("time"), "0");
    auto f = c->all("failure");
    failures.push_back(f.empty() ? "" : f[0]->attributes.at("message"));
    if (!f.empty()) {
      EXPECT_EQ(f[0]->text, f[0]->attributes.at("message"));
    }
  }
  EXPECT_EQ(names, (std::vector<std::string>{
                       "gmsim.thresholds/p99<10ms", "gmsim.thresholds/lost_rows<1000",
                       "gmsim.invariants/no rows lost", "gmsim.invariants/accounting",
                       "gmsim.invariants/no contract faults at the receiver",
                       "gmsim.invariants/no pacing violations at the receiver"}));
  EXPECT_EQ(failures,
            (std::vector<std::string>{
                "p99 = 12.30ms, threshold p99<10ms", "",
                "200 rows lost: 120 rejected, 60 failed, 20 unsent", "",
                "2 bodies failed the GMetri contract at the receiver (answered 400)", ""}));
}

TEST(thresholds_junit, accounting_and_not_applicable_failures) {
  auto s = sample_summary();
  s.erase("receiver");
  s["rows"]["unsent"] = 19;
  add_thresholds(s, evaluate_thresholds({parse_threshold("invalid_bodies==0")}, s));
  auto suite = *xml_reader(junit_xml(s)).read().all("testsuite")[0];
  auto cases = suite.all("testcase");
  ASSERT_EQ(cases.size(), 3u);  // no receiver: no receiver invariants
  EXPECT_EQ(
      cases[0]->all("failure")[0]->attributes.at("message"),
      "invalid_bodies: not applicable: no embedded receiver counted this run (it runs only in a "
      "live run without --target), threshold invalid_bodies==0");
  EXPECT_EQ(cases[2]->attributes.at("name"), "accounting");
  EXPECT_EQ(cases[2]->all("failure")[0]->attributes.at("message"),
            "rows.generated 5000 != delivered 4800 + rejected 120 + failed 60 + unacknowledged 0 + "
            "unsent 19 + auth probes 0 = 4999");
}

TEST(thresholds_junit, everything_is_escaped) {
  auto s = sample_summary();
  s["profile"] = "a<b & \"c\" 'd'\n\x01";
  s["thresholds"] =
      json::parse(R"([{"expr":"p99<5 & \"x\" ]]>","ok":false,"value":null,"metric":"p99",
                                     "note":"not applicable: <none> & 'none'"}])");
  auto xml = junit_xml(s);
  auto suite = *xml_reader(xml).read().all("testsuite")[0];
  std::string profile;
  for (const auto* p : suite.all("properties")[0]->all("property")) {
    if (p->attributes.at("name") == "profile") profile = p->attributes.at("value");
  }
  EXPECT_EQ(profile, "a<b & \"c\" 'd'\n\xEF\xBF\xBD");
  const auto* c = suite.all("testcase")[0];
  EXPECT_EQ(c->attributes.at("name"), "p99<5 & \"x\" ]]>");
  EXPECT_EQ(c->all("failure")[0]->attributes.at("message"),
            "p99: not applicable: <none> & 'none', threshold p99<5 & \"x\" ]]>");
  EXPECT_EQ(xml_escape("<&>\"'\t\r\x1f ok"), "&lt;&amp;&gt;&quot;&apos;&#9;&#13;\xEF\xBF\xBD ok");
}

// The binary, as CI runs it (GMSIM_BIN is set by ctest).
struct binary_run {
  int code = -1;
  std::string out, err;
};

class thresholds_binary : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("GMSIM_BIN");
    if (!bin) GTEST_SKIP() << "GMSIM_BIN is not set";
    bin_ = bin;
    std::string pattern = ::testing::TempDir() + "gmsim_thresholds_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern + "/";
  }
  void TearDown() override {
    if (!dir_.empty()) std::system(("rm -rf '" + dir_ + "'").c_str());
  }
  // `timeout` bounds the run whatever happens.
  binary_run gmsim(const std::string& arguments) {
    binary_run r;
    std::string command =
        "timeout 120 '" + bin_ + "' " + arguments + " >'" + dir_ + "out' 2>'" + dir_ + "err'";
    int status = std::system(command.c_str());
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read("out");
    r.err = read("err");
    return r;
  }
  std::string read(const std::string& name) {
    std::ifstream in(dir_ + name, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
  std::string path(const std::string& name) { return dir_ + name; }

  std::string bin_, dir_;
};

// Issue 20: a run that failed on its own (its summary's internal_error) exits 1, and so
// does the check of its summary, whatever the thresholds say: its figures are partial.
TEST_F(thresholds_binary, a_summary_with_an_internal_error_fails_its_check) {
  ASSERT_EQ(gmsim("run --dry-run --quiet --summary-json " + path("s.json")).code, 0);
  auto summary = json::parse(read("s.json"));
  ASSERT_EQ(gmsim("check " + path("s.json") + " --threshold 'lost_rows==0'").code, 0);
  summary["internal_error"] = "out of memory (std::bad_alloc)";
  std::ofstream(path("s.json")) << summary.dump();
  auto r =
      gmsim("check " + path("s.json") + " --threshold 'lost_rows==0' --junit " + path("j.xml"));
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("internal error: out of memory (std::bad_alloc)"), std::string::npos)
      << r.err;
  EXPECT_NE(read("j.xml").find("gmsim ran to its end"), std::string::npos);
}

TEST_F(thresholds_binary, a_failed_threshold_exits_99_after_every_report) {
  auto r =
      gmsim("run --dry-run --quiet --threshold 'lost_rows==0' --threshold 'lag_max<1ms' --junit " +
            path("junit.xml") + " --summary-json " + path("summary.json") + " --lost-rows " +
            path("lost.ndjson"));
  EXPECT_EQ(r.code, 99) << r.err;
  EXPECT_NE(r.out.find("✓ lost_rows==0  (lost_rows = 0)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("✗ lag_max<1ms  (lag_max = "), std::string::npos) << r.out;
  auto summary = json::parse(read("summary.json"));
  const auto& list = summary["thresholds"];
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0],
            json::parse(R"({"expr":"lost_rows==0","ok":true,"value":0,"metric":"lost_rows"})"));
  EXPECT_EQ(list[1]["expr"], "lag_max<1ms");
  EXPECT_EQ(list[1]["ok"], false);
  EXPECT_EQ(list[1]["metric"], "lag_max");
  EXPECT_EQ(list[1]["value"], summary["delivery_lag_ms"]["max"]);
  EXPECT_GE(list[1]["value"].get<double>(), 1.0);
  EXPECT_EQ(summary["aborted"], false);
  EXPECT_TRUE(std::ifstream(path("lost.ndjson")).good());  // written before the exit
  EXPECT_TRUE(read("lost.ndjson").empty());                // and nothing was lost

  auto suite = *xml_reader(read("junit.xml")).read().all("testsuite")[0];
  std::vector<const xml_node*> threshold_cases;
  for (const auto* c : suite.all("testcase")) {
    if (c->attributes.at("classname") == "gmsim.thresholds") threshold_cases.push_back(c);
  }
  ASSERT_EQ(threshold_cases.size(), 2u);
  EXPECT_EQ(threshold_cases[0]->attributes.at("name"), "lost_rows==0");
  EXPECT_TRUE(threshold_cases[0]->all("failure").empty());
  EXPECT_EQ(threshold_cases[1]->attributes.at("name"), "lag_max<1ms");
  EXPECT_EQ(threshold_cases[1]->all("failure").size(), 1u);
  EXPECT_EQ(suite.attributes.at("failures"), "1");  // the invariants hold in a dry run
  EXPECT_EQ(suite.attributes.at("tests"), "4");

  if (std::system("xmllint --version >/dev/null 2>&1") == 0) {
    EXPECT_EQ(std::system(("xmllint --noout '" + path("junit.xml") + "'").c_str()), 0);
  }
}

TEST_F(thresholds_binary, passing_thresholds_exit_0) {
  auto r = gmsim(
      "run --dry-run --quiet --threshold 'lost_rows==0' --threshold 'requests > 0' "
      "--threshold 'error_rate<1%' --threshold 'latency_p99 <= 0 ms' --junit " +
      path("junit.xml"));
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("✓ latency_p99 <= 0 ms  (p99 = 0ms)"), std::string::npos) << r.out;
  auto root = xml_reader(read("junit.xml")).read();
  EXPECT_EQ(root.attributes["tests"], "6");
  EXPECT_EQ(root.attributes["failures"], "0");
}

// Each operator at its boundary, end to end through the binary: a dry run loses no row,
// so lost_rows is exactly 0, and a requests count is known once the run has said it.
TEST_F(thresholds_binary, each_operator_holds_or_fails_exactly_at_its_boundary) {
  auto r = gmsim(
      "run --dry-run --quiet --threshold 'lost_rows<0' --threshold 'lost_rows<=0' "
      "--threshold 'lost_rows>0' --threshold 'lost_rows>=0' --threshold 'lost_rows==0' "
      "--summary-json " + path("summary.json"));
  EXPECT_EQ(r.code, 99) << r.err;
  auto list = json::parse(read("summary.json"))["thresholds"];
  std::vector<bool> ok;
  for (const auto& t : list) ok.push_back(t["ok"].get<bool>());
  EXPECT_EQ(ok, (std::vector<bool>{false, true, false, true, true})) << list;

  const auto requests = json::parse(read("summary.json"))["requests"]["attempted"].get<std::int64_t>();
  ASSERT_GT(requests, 1);
  const std::string n = std::to_string(requests);
  r = gmsim("run --dry-run --quiet --threshold 'requests<" + n + "' --threshold 'requests<=" + n +
            "' --threshold 'requests>" + n + "' --threshold 'requests>=" + n +
            "' --threshold 'requests==" + n + "' --summary-json " + path("summary.json"));
  EXPECT_EQ(r.code, 99) << r.err;
  list = json::parse(read("summary.json"))["thresholds"];
  ok.clear();
  for (const auto& t : list) ok.push_back(t["ok"].get<bool>());
  EXPECT_EQ(ok, (std::vector<bool>{false, true, false, true, true})) << list;
  r = gmsim("run --dry-run --quiet --threshold 'requests<=" + n + "' --threshold 'requests>=" + n +
            "' --threshold 'requests==" + n + "'");
  EXPECT_EQ(r.code, 0) << r.out << r.err;
}

TEST_F(thresholds_binary, a_bad_expression_exits_2_before_the_run) {
  auto r = gmsim(
      "run --dry-run --quiet --threshold 'p99<500ms' --threshold 'error_rate<5ms' --summary-json " +
      path("summary.json"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(
      r.err.find(
          "gmsim run: --threshold 'error_rate<5ms': 'error_rate' is a ratio: use % or no unit "
          "(0.01 = 1%), not 'ms'"),
      std::string::npos)
      << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_FALSE(std::ifstream(path("summary.json")).good());
}

TEST(thresholds_xmllint, junit_is_valid_for_xmllint) {
  if (std::system("xmllint --version >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "xmllint is not installed";
  auto s = sample_summary();
  s["profile"] = "<&\"'\x02>";
  add_thresholds(
      s, evaluate_thresholds({parse_threshold("p99<10ms"), parse_threshold("lost_rows<1000")}, s));
  std::string file =
      ::testing::TempDir() + "gmsim_thresholds_junit_" + std::to_string(getpid()) + ".xml";
  std::ofstream(file) << junit_xml(s);
  EXPECT_EQ(std::system(("xmllint --noout '" + file + "'").c_str()), 0);
  std::remove(file.c_str());
}

// Live, against a closed port on loopback: every request fails to connect, so
// failed_requests==0 fails at the first one and the run stops long before its 10 minutes.
TEST_F(thresholds_binary, abort_on_fail_stops_a_live_run_and_exits_99) {
  auto r = gmsim(
      "run --target http://127.0.0.1:1/webhook --no-auth --duration 10m --max-delay 1s --quiet "
      "--threshold 'failed_requests==0' --threshold 'p99<3600s' --abort-on-fail --summary-json " +
      path("summary.json"));
  EXPECT_EQ(r.code, 99) << r.err;
  EXPECT_NE(
      r.err.find("gmsim: stopping: threshold 'failed_requests==0' failed (failed_requests is "),
      std::string::npos)
      << r.err;
  auto summary = json::parse(read("summary.json"));
  EXPECT_EQ(summary["aborted"], true);
  EXPECT_EQ(summary["interrupted"], false);
  EXPECT_GE(summary["requests"]["failed"].get<int>(), 1);
  EXPECT_EQ(summary["thresholds"][0]["ok"], false);
  EXPECT_EQ(summary["thresholds"][1]["ok"], true);
}

// Issue 18: `gmsim check` gives any summary, merged shards included, a run's verdict.
TEST_F(thresholds_binary, check_evaluates_thresholds_on_merged_shards) {
  for (const char* shard : {"1/2", "2/2"}) {
    auto r = gmsim(std::string("run --dry-run --quiet --shard ") + shard +
                   " --start-time 2026-01-01T00:00:00Z --summary-json " +
                   path(std::string("s") + shard[0] + ".json"));
    ASSERT_EQ(r.code, 0) << r.err;
  }
  auto failing = gmsim("check " + path("s1.json") + " " + path("s2.json") +
                       " --threshold 'lost_rows==0' --threshold 'requests>100000' --junit " +
                       path("check.xml") + " --summary-json " + path("checked.json"));
  EXPECT_EQ(failing.code, 99) << failing.err;
  EXPECT_NE(failing.out.find("2 summaries merged"), std::string::npos) << failing.out;
  EXPECT_NE(failing.out.find("✓ lost_rows==0"), std::string::npos) << failing.out;
  EXPECT_NE(failing.out.find("✗ requests>100000"), std::string::npos) << failing.out;
  const auto checked = json::parse(read("checked.json"));
  EXPECT_EQ(checked["shard"], "1/1");
  ASSERT_EQ(checked["thresholds"].size(), 2u);
  EXPECT_EQ(checked["thresholds"][1]["ok"], false);
  EXPECT_NE(read("check.xml").find("failures=\"1\""), std::string::npos) << read("check.xml");
  // The merged summary's requests are the sum of the shards'.
  const auto one = json::parse(read("s1.json")), two = json::parse(read("s2.json"));
  EXPECT_EQ(checked["requests"]["attempted"].get<std::int64_t>(),
            one["requests"]["attempted"].get<std::int64_t>() +
                two["requests"]["attempted"].get<std::int64_t>());
  auto passing = gmsim("check " + path("s1.json") + " --threshold 'lost_rows==0'");
  EXPECT_EQ(passing.code, 0) << passing.err;
  EXPECT_EQ(gmsim("check --threshold 'lost_rows==0'").code, 2);
  EXPECT_EQ(gmsim("check " + path("nothing.json") + " --threshold 'lost_rows==0'").code, 2);
  EXPECT_EQ(gmsim("check " + path("s1.json") + " --threshold 'lost_row==0'").code, 2);
  EXPECT_EQ(gmsim("check " + path("s1.json") + " --abort-on-fail").code, 2);
}

}  // namespace
}  // namespace gmsim
