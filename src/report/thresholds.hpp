// Thresholds (`gmsim run --threshold "p99<500ms"`), as k6 has them: pass/fail criteria
// evaluated on the summary JSON, so that `gmsim merge` can evaluate them on merged
// shards too. Also the JUnit report, built from the summary JSON alone. The metrics are
// documented in docs/reports.md.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/duration.hpp"
#include "delivery/stats.hpp"

namespace gmsim {

// What a metric's value is: its unit in results, and the units an expression may use.
enum class metric_kind {
  time_ms,     // ms, s, or a plain number of ms
  ratio,       // %, or a plain number in [0, 1]
  count,       // a plain number
  per_second,  // a plain number
};

struct metric_info {
  std::string_view name;  // canonical
  metric_kind kind;
  bool can_abort;            // --abort-on-fail can stop the run on it (with <, <=, ==)
  std::string_view meaning;  // one line, from the summary JSON's fields
};

// Every metric, canonical names only, in documentation order.
const std::vector<metric_info>& threshold_metrics();
// The canonical name of a metric or alias (latency_p99 -> p99); empty when unknown.
std::string_view canonical_metric(std::string_view name);

enum class threshold_op { lt, le, gt, ge, eq };
std::string_view to_string(threshold_op op);  // "<", "<=", ...

struct threshold {
  std::string expr;    // as given, without surrounding spaces
  std::string metric;  // canonical
  metric_kind kind = metric_kind::count;
  threshold_op op = threshold_op::lt;
  double value = 0;  // in the metric's unit: ms, ratio (1% = 0.01), count, per second
};

// Bad expression: the message is "'EXPR': reason" (the command line prefixes the option).
class threshold_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// "METRIC OP VALUE[UNIT]", spaces allowed anywhere between the parts. Throws
// threshold_error on an unknown metric (naming the nearest valid one), a bad operator,
// a bad number, or a unit that does not fit the metric.
threshold parse_threshold(std::string_view text);

struct threshold_result {
  std::string expr;
  std::string metric;  // canonical
  metric_kind kind = metric_kind::count;
  bool ok = false;
  std::optional<double> value;  // in the metric's unit; empty when not applicable
  std::string note;             // why there is no value (then ok is false)
};

// Evaluates against a summary document as summary_json() builds it (or a merge of them).
threshold_result evaluate_threshold(const threshold& t, const nlohmann::json& summary);
std::vector<threshold_result> evaluate_thresholds(const std::vector<threshold>& thresholds,
                                                  const nlohmann::json& summary);
bool all_passed(const std::vector<threshold_result>& results);

// "p99 = 12.30ms", "error_rate = 5%", "lost_rows = 37", "rps = 10.0/s"; without a value,
// "gap_violations: not applicable: ...".
std::string describe(const threshold_result& r);
// An entry of a summary's thresholds array ({expr, ok, value, metric, note}) as a
// threshold_result, its kind from its metric: for reports built from the summary alone.
threshold_result threshold_result_of(const nlohmann::json& entry);
// Its value with the metric's unit ("12.30ms", "2.838%", "53951", "10.0/s"), or its note.
std::string shown_value(const threshold_result& r);

// Replaces summary["thresholds"] with [{expr, ok, value, metric}] (value null and a "note"
// when not applicable; counts as integers).
void add_thresholds(nlohmann::json& summary, const std::vector<threshold_result>& results);

// The console's threshold section, k6-like: "  ✓ p99<500ms  (p99 = 12.30ms)". Empty
// when there are no results.
std::string thresholds_text(const std::vector<threshold_result>& results);

// For --abort-on-fail, during a live run: so_far holds the counts merged from the
// workers. Returns the first threshold that can no longer
// pass whatever happens next, with value set to what its metric is at least already;
// only monotone counts can tell (metric_info::can_abort) and only with <, <= or ==.
std::optional<threshold_result> doomed_threshold(const std::vector<threshold>& thresholds,
                                                 const run_counters& so_far);
// Whether t could ever abort a run (its metric can_abort and its operator fits, or it
// is a rate or latency that abort_watch judges over a window).
bool can_abort(const threshold& t);

// --abort-on-fail for the whole run, during a live run or replay: counts that can no
// longer pass stop it at once (doomed_threshold); rates and latencies (error_rate,
// lost_rate, p50..p999, max) with <, <= or == are judged over the last `window` of the
// run, once `grace` has passed (what happened within it is forgiven) and the window holds
// at least min_requests answers, as k6's abortOnFail with delayAbortEval. A latency is read from
// coarse buckets (12% wide) at its bucket's floor: a window fails only when even that is over the
// limit.
class abort_watch {
 public:
  static constexpr std::int64_t min_requests = 20;

  abort_watch(std::vector<threshold> thresholds, millis window, millis grace);
  // Called about once a second with the counters of the run so far and the real time
  // since its start; the first threshold that fails, with its value and a note.
  std::optional<threshold_result> check(const run_counters& so_far, millis elapsed);

  // The knee of a capacity search: the window with the most rows delivered per second
  // among those that met every windowed threshold (judged, past the grace, with enough
  // answers), and when and why the run then failed.
  struct knee {
    double rows_per_second = 0;               // delivered
    double requests_per_second = 0;           // attempted
    millis window_start = 0, window_end = 0;  // real ms since the start
    std::optional<millis> failed_at;          // the check that failed
    std::string failed;                       // its threshold
    std::string note;                         // its note
  };
  const std::optional<knee>& best_passing() const { return best_; }
  // Whether any of the thresholds is judged over a window.
  bool judges_windows() const;

 private:
  std::vector<threshold> thresholds_;
  millis window_, grace_;
  struct mark {
    millis at;
    run_counters counts;
  };
  std::vector<mark> history_;  // oldest first; the oldest at least window_ old when possible
  std::optional<knee> best_;
};

// A windowed metric's value from the difference of two snapshots (late - early); empty
// when the window has too few answers or the metric is not windowed.
std::optional<double> window_value(std::string_view metric, const run_counters& early,
                                   const run_counters& late);

// src/report/junit.cpp. The JUnit XML report of a summary document (with its thresholds array filled in):
// one suite "gmsim", a test case per threshold (classname gmsim.thresholds) and per
// built-in invariant (gmsim.invariants: "no rows lost", "accounting", and with a
// receiver section "no contract faults at the receiver", "no pacing violations at the
// receiver"). Invariants are reported only: they never change the exit code.
std::string junit_xml(const nlohmann::json& summary);

// Text escaped for XML content and attribute values; characters XML 1.0 cannot hold
// (control characters but tab, LF, CR) become U+FFFD.
std::string xml_escape(std::string_view text);

}  // namespace gmsim
