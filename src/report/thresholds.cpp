#include "report/thresholds.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "report/report.hpp"

namespace gmsim {
namespace {

using json = nlohmann::json;

struct alias {
  std::string_view name, canonical;
};

// clang-format off
const std::vector<metric_info> metrics = {
  {"p50", metric_kind::time_ms, false, "latency_ms.p50: intended send to answer (coordinated omission corrected)"},
  {"p90", metric_kind::time_ms, false, "latency_ms.p90"},
  {"p99", metric_kind::time_ms, false, "latency_ms.p99"},
  {"p999", metric_kind::time_ms, false, "latency_ms.p999"},
  {"max", metric_kind::time_ms, false, "latency_ms.max"},
  {"uncorrected_p50", metric_kind::time_ms, false, "latency_uncorrected_ms.p50: actual send to answer"},
  {"uncorrected_p90", metric_kind::time_ms, false, "latency_uncorrected_ms.p90"},
  {"uncorrected_p99", metric_kind::time_ms, false, "latency_uncorrected_ms.p99"},
  {"uncorrected_p999", metric_kind::time_ms, false, "latency_uncorrected_ms.p999"},
  {"uncorrected_max", metric_kind::time_ms, false, "latency_uncorrected_ms.max"},
  {"lag_p50", metric_kind::time_ms, false, "delivery_lag_ms.p50: a row's oldest event to its delivery"},
  {"lag_p90", metric_kind::time_ms, false, "delivery_lag_ms.p90"},
  {"lag_p99", metric_kind::time_ms, false, "delivery_lag_ms.p99"},
  {"lag_max", metric_kind::time_ms, false, "delivery_lag_ms.max"},
  {"sender_lateness_p99", metric_kind::time_ms, false, "start_delay_ms.p99: how late gmsim started requests after the pacing rules allowed"},
  {"sender_lateness_max", metric_kind::time_ms, false, "start_delay_ms.max"},
  {"error_rate", metric_kind::ratio, false, "(requests.rejected + requests.failed + requests.unacknowledged) / requests.attempted; 0 when none attempted"},
  {"lost_rows", metric_kind::count, true, "rows.lost: rows known not to have been accepted (rejected + failed + unsent)"},
  {"lost_rate", metric_kind::ratio, false, "lost_rows / rows.generated; 0 when none generated"},
  {"unacknowledged_rows", metric_kind::count, true, "rows.unacknowledged: sent whole, no answer (timeout or reset); maybe stored"},
  {"delivered_rows", metric_kind::count, true, "rows.delivered"},
  {"delivered_rate", metric_kind::ratio, false, "rows.delivered / (rows.generated - rows.auth_probes); 1 when none generated"},
  {"requests", metric_kind::count, true, "requests.attempted"},
  {"rps", metric_kind::per_second, false, "requests.attempted per wall second (wall_seconds); in a dry run per simulated second (duration_ms)"},
  {"rows_per_second", metric_kind::per_second, false, "rows.delivered per second, over the same seconds as rps"},
  {"rejected_requests", metric_kind::count, true, "requests.rejected: answered with a status other than 2xx"},
  {"failed_requests", metric_kind::count, true, "requests.failed: no answer (requests.by_error)"},
  {"status_4xx", metric_kind::count, true, "requests answered 400-499 (requests.by_status)"},
  {"status_5xx", metric_kind::count, true, "requests answered 500-599 (requests.by_status)"},
  {"timeouts", metric_kind::count, true, "requests.by_error.timeout: no complete answer within --timeout"},
  {"auth_probes_accepted", metric_kind::count, true, "auth_probes.accepted: requests without or with a wrong Authorization answered 2xx (0 when none sent; not applicable in a dry run)"},
  {"gap_violations", metric_kind::count, false, "receiver.gap_violations: the embedded receiver only"},
  {"invalid_bodies", metric_kind::count, false, "receiver.invalid: the embedded receiver only"},
};

const std::vector<alias> aliases = {
  {"latency_p50", "p50"}, {"latency_p90", "p90"}, {"latency_p99", "p99"},
  {"latency_p999", "p999"}, {"latency_max", "max"},
};
// clang-format on

const metric_info* find_metric(std::string_view canonical) {
  for (const auto& m : metrics) {
    if (m.name == canonical) return &m;
  }
  return nullptr;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string nearest_metric(std::string_view name) {
  std::string lower(name);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view best;
  std::size_t best_distance = SIZE_MAX;
  auto consider = [&](std::string_view candidate) {
    auto d = edit_distance(lower, candidate);
    if (d < best_distance) best_distance = d, best = candidate;
  };
  for (const auto& m : metrics) consider(m.name);
  for (const auto& a : aliases) consider(a.name);
  return std::string(best);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string got(std::string_view rest) {
  return rest.empty() ? "got nothing" : "got '" + std::string(rest) + "'";
}

std::string unit_advice(const std::string& name, metric_kind kind) {
  switch (kind) {
    case metric_kind::time_ms:
      return "'" + name + "' is a time: use ms, s or no unit (ms)";
    case metric_kind::ratio:
      return "'" + name + "' is a ratio: use % or no unit (0.01 = 1%)";
    case metric_kind::count:
      return "'" + name + "' is a count: use no unit";
    case metric_kind::per_second:
      return "'" + name + "' is a rate per second: use no unit";
  }
  return {};
}

bool compare(double value, threshold_op op, double limit) {
  switch (op) {
    case threshold_op::lt:
      return value < limit;
    case threshold_op::le:
      return value <= limit;
    case threshold_op::gt:
      return value > limit;
    case threshold_op::ge:
      return value >= limit;
    case threshold_op::eq:
      return value == limit;
  }
  return false;
}

struct measured {
  std::optional<double> value;
  std::string note;
};

measured number_at(const json& summary, const char* pointer) {
  try {
    const json& v = summary.at(json::json_pointer(pointer));
    if (v.is_number()) return {v.get<double>(), {}};
  } catch (const json::exception&) {
  }
  return {std::nullopt, std::string("not applicable: the summary has no number at ") + pointer};
}

// The sum over by_status keys in [low, high].
measured status_range(const json& summary, int low, int high) {
  auto it = summary.find("requests");
  if (it == summary.end() || !it->contains("by_status") || !(*it)["by_status"].is_object()) {
    return {std::nullopt, "not applicable: the summary has no requests.by_status"};
  }
  double total = 0;
  for (const auto& [key, n] : (*it)["by_status"].items()) {
    int status = std::atoi(key.c_str());
    if (status >= low && status <= high && n.is_number()) total += n.get<double>();
  }
  return {total, {}};
}

measured ratio(const measured& part, const measured& whole, double when_empty) {
  if (!part.value) return part;
  if (!whole.value) return whole;
  return {*whole.value == 0 ? when_empty : *part.value / *whole.value, {}};
}

measured difference(const measured& a, const measured& b) {
  if (!a.value) return a;
  if (!b.value) return b;
  return {*a.value - *b.value, {}};
}

measured sum(const measured& a, const measured& b) {
  if (!a.value) return a;
  if (!b.value) return b;
  return {*a.value + *b.value, {}};
}

measured per_second(const json& summary, const measured& amount) {
  if (!amount.value) return amount;
  bool dry = summary.value("dry_run", false);
  auto seconds = dry ? number_at(summary, "/duration_ms") : number_at(summary, "/wall_seconds");
  if (!seconds.value) return seconds;
  double s = dry ? *seconds.value / 1000 : *seconds.value;
  return {s > 0 ? *amount.value / s : 0, {}};
}

measured receiver_count(const json& summary, const char* pointer) {
  if (!summary.contains("receiver")) {
    return {std::nullopt,
            "not applicable: no embedded receiver counted this run (it runs only in a live run "
            "without --target)"};
  }
  return number_at(summary, pointer);
}

measured measure(std::string_view m, const json& s) {
  static const std::pair<std::string_view, const char*> direct[] = {
      {"p50", "/latency_ms/p50"},
      {"p90", "/latency_ms/p90"},
      {"p99", "/latency_ms/p99"},
      {"p999", "/latency_ms/p999"},
      {"max", "/latency_ms/max"},
      {"uncorrected_p50", "/latency_uncorrected_ms/p50"},
      {"uncorrected_p90", "/latency_uncorrected_ms/p90"},
      {"uncorrected_p99", "/latency_uncorrected_ms/p99"},
      {"uncorrected_p999", "/latency_uncorrected_ms/p999"},
      {"uncorrected_max", "/latency_uncorrected_ms/max"},
      {"lag_p50", "/delivery_lag_ms/p50"},
      {"lag_p90", "/delivery_lag_ms/p90"},
      {"lag_p99", "/delivery_lag_ms/p99"},
      {"lag_max", "/delivery_lag_ms/max"},
      {"sender_lateness_p99", "/start_delay_ms/p99"},
      {"sender_lateness_max", "/start_delay_ms/max"},
      {"delivered_rows", "/rows/delivered"},
      {"requests", "/requests/attempted"},
      {"rejected_requests", "/requests/rejected"},
      {"failed_requests", "/requests/failed"},
  };
  for (const auto& [name, pointer] : direct) {
    if (m == name) return number_at(s, pointer);
  }
  // Fields that summaries of gmsim 0.2 and earlier lack count 0 there.
  auto count_or_zero = [&](const char* pointer) -> measured {
    return s.contains(json::json_pointer(pointer)) ? number_at(s, pointer) : measured{0.0, {}};
  };
  auto lost = [&] {
    return s.contains(json::json_pointer("/rows/lost"))
               ? number_at(s, "/rows/lost")
               : difference(number_at(s, "/rows/generated"), number_at(s, "/rows/delivered"));
  };
  if (m == "error_rate") {
    auto errors = sum(sum(number_at(s, "/requests/rejected"), number_at(s, "/requests/failed")),
                      count_or_zero("/requests/unacknowledged"));
    return ratio(errors, number_at(s, "/requests/attempted"), 0);
  }
  if (m == "lost_rows") return lost();
  if (m == "lost_rate") return ratio(lost(), number_at(s, "/rows/generated"), 0);
  if (m == "unacknowledged_rows") return count_or_zero("/rows/unacknowledged");
  if (m == "delivered_rate") {
    return ratio(number_at(s, "/rows/delivered"),
                 difference(number_at(s, "/rows/generated"), count_or_zero("/rows/auth_probes")),
                 1);
  }
  if (m == "auth_probes_accepted") {
    if (s.value("dry_run", false)) {
      return {std::nullopt,
              "not applicable: a dry run answers every request itself, so it cannot tell "
              "whether a receiver refuses auth probes"};
    }
    return count_or_zero("/auth_probes/accepted");
  }
  if (m == "rps") return per_second(s, number_at(s, "/requests/attempted"));
  if (m == "rows_per_second") return per_second(s, number_at(s, "/rows/delivered"));
  if (m == "status_4xx") return status_range(s, 400, 499);
  if (m == "status_5xx") return status_range(s, 500, 599);
  if (m == "timeouts") {
    if (!s.contains("requests") || !s["requests"].contains("by_error")) {
      return {std::nullopt, "not applicable: the summary has no requests.by_error"};
    }
    // Kinds that did not occur are left out of by_error.
    const auto& by_error = s["requests"]["by_error"];
    return {by_error.contains("timeout") ? by_error["timeout"].get<double>() : 0.0, {}};
  }
  if (m == "gap_violations") return receiver_count(s, "/receiver/gap_violations");
  if (m == "invalid_bodies") return receiver_count(s, "/receiver/invalid");
  return {std::nullopt, "not applicable: unknown metric"};
}

// Monotone counts, from the counters of a run in progress: what the metric is at least.
std::optional<double> lower_bound(std::string_view m, const run_counters& s) {
  auto statuses = [&](int low, int high) {
    std::int64_t n = 0;
    for (const auto& [status, count] : s.by_status) {
      if (status >= low && status <= high) n += count;
    }
    return n;
  };
  std::int64_t n = 0;
  if (m == "lost_rows") {
    n = s.rows_rejected + s.rows_failed;  // unsent rows are known at the end only
  } else if (m == "unacknowledged_rows") {
    n = s.rows_unacknowledged;
  } else if (m == "auth_probes_accepted") {
    n = s.auth_probes_accepted;
  } else if (m == "delivered_rows") {
    n = s.rows_delivered;
  } else if (m == "requests") {
    n = s.requests_attempted;
  } else if (m == "rejected_requests") {
    n = s.requests_rejected;
  } else if (m == "failed_requests") {
    n = s.requests_failed;
  } else if (m == "status_4xx") {
    n = statuses(400, 499);
  } else if (m == "status_5xx") {
    n = statuses(500, 599);
  } else if (m == "timeouts") {
    n = s.by_error[static_cast<std::size_t>(failure_kind::timeout)];
  } else {
    return std::nullopt;
  }
  return static_cast<double>(n);
}

std::string format_value(metric_kind kind, double v) {
  char buffer[64];
  switch (kind) {
    case metric_kind::time_ms:
      return v == 0 ? "0ms" : format_ms(v);
    case metric_kind::ratio:
      std::snprintf(buffer, sizeof buffer, "%.4g%%", v * 100);
      return buffer;
    case metric_kind::count:
      std::snprintf(buffer, sizeof buffer, "%lld", static_cast<long long>(std::llround(v)));
      return buffer;
    case metric_kind::per_second:
      std::snprintf(buffer, sizeof buffer, "%.1f/s", v);
      return buffer;
  }
  return {};
}

}  // namespace

std::string describe(const threshold_result& r) {
  if (!r.value) return r.metric + ": " + r.note;
  return r.metric + " = " + format_value(r.kind, *r.value);
}

std::string shown_value(const threshold_result& r) {
  return r.value ? format_value(r.kind, *r.value) : r.note;
}

threshold_result threshold_result_of(const nlohmann::json& t) {
  threshold_result r;
  r.expr = t.value("expr", "");
  r.metric = t.value("metric", "");
  if (const auto* m = find_metric(r.metric)) r.kind = m->kind;
  r.ok = t.contains("ok") && t["ok"].is_boolean() && t["ok"].get<bool>();
  if (t.contains("value") && t["value"].is_number()) r.value = t["value"].get<double>();
  if (t.contains("note") && t["note"].is_string()) r.note = t["note"].get<std::string>();
  return r;
}

const std::vector<metric_info>& threshold_metrics() { return metrics; }

std::string_view canonical_metric(std::string_view name) {
  if (const auto* m = find_metric(name)) return m->name;
  for (const auto& a : aliases) {
    if (a.name == name) return a.canonical;
  }
  return {};
}

std::string_view to_string(threshold_op op) {
  switch (op) {
    case threshold_op::lt:
      return "<";
    case threshold_op::le:
      return "<=";
    case threshold_op::gt:
      return ">";
    case threshold_op::ge:
      return ">=";
    case threshold_op::eq:
      return "==";
  }
  return "?";
}

threshold parse_threshold(std::string_view text) {
  threshold t;
  t.expr = std::string(trim(text));
  if (t.expr.empty())
    throw threshold_error("empty expression: expected METRIC OP VALUE, such as p99<500ms");
  auto fail = [&](const std::string& reason) {
    return threshold_error("'" + t.expr + "': " + reason);
  };
  std::string_view rest = t.expr;
  auto take = [&](auto accept) {
    std::size_t n = 0;
    while (n < rest.size() && accept(rest[n])) ++n;
    auto token = rest.substr(0, n);
    rest = trim(rest.substr(n));
    return token;
  };
  std::string name(
      take([](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }));
  if (name.empty()) throw fail("expected a metric name first, such as p99<500ms");
  t.metric = std::string(canonical_metric(name));
  if (t.metric.empty()) {
    throw fail("unknown metric '" + name + "' (did you mean '" + nearest_metric(name) +
               "'? docs/reports.md lists them)");
  }
  t.kind = find_metric(t.metric)->kind;

  auto rest_before_op = rest;
  auto op = take([](char c) { return c == '<' || c == '>' || c == '=' || c == '!'; });
  if (op.empty())
    throw fail("expected an operator (<, <=, >, >= or ==) after '" + name + "', " +
               got(rest_before_op));
  if (op == "<")
    t.op = threshold_op::lt;
  else if (op == "<=")
    t.op = threshold_op::le;
  else if (op == ">")
    t.op = threshold_op::gt;
  else if (op == ">=")
    t.op = threshold_op::ge;
  else if (op == "==")
    t.op = threshold_op::eq;
  else
    throw fail("bad operator '" + std::string(op) + "': use <, <=, >, >= or ==");

  auto rest_before_number = rest;
  auto number =
      take([](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; });
  double value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || ec != std::errc() || end != number.data() + number.size()) {
    throw fail("expected a number after '" + std::string(op) + "', " + got(rest_before_number));
  }
  std::string unit(rest);
  bool fits = true;
  if (unit.empty()) {
    if (t.kind == metric_kind::ratio && value > 1) {
      throw fail("'" + name + "' is a ratio in [0, 1]: write " + std::string(number) +
                 "% for a percentage");
    }
  } else if (unit == "ms") {
    fits = t.kind == metric_kind::time_ms;
  } else if (unit == "s") {
    fits = t.kind == metric_kind::time_ms;
    value *= 1000;
  } else if (unit == "%") {
    fits = t.kind == metric_kind::ratio;
    value /= 100;
  } else {
    throw fail("unknown unit '" + unit + "': use ms, s, % or none");
  }
  if (!fits) throw fail(unit_advice(name, t.kind) + ", not '" + unit + "'");
  // A finite number of seconds can overflow in ms; an infinite bound would always pass.
  if (!std::isfinite(value)) throw fail("the number " + std::string(number) + " is too large");
  t.value = value;
  return t;
}

threshold_result evaluate_threshold(const threshold& t, const nlohmann::json& summary) {
  threshold_result r;
  r.expr = t.expr;
  r.metric = t.metric;
  r.kind = t.kind;
  auto m = measure(t.metric, summary);
  r.value = m.value;
  r.note = m.note;
  r.ok = m.value && compare(*m.value, t.op, t.value);
  return r;
}

std::vector<threshold_result> evaluate_thresholds(const std::vector<threshold>& thresholds,
                                                  const nlohmann::json& summary) {
  std::vector<threshold_result> out;
  for (const auto& t : thresholds) out.push_back(evaluate_threshold(t, summary));
  return out;
}

bool all_passed(const std::vector<threshold_result>& results) {
  return std::all_of(results.begin(), results.end(), [](const auto& r) { return r.ok; });
}

void add_thresholds(nlohmann::json& summary, const std::vector<threshold_result>& results) {
  json list = json::array();
  for (const auto& r : results) {
    json entry = {{"expr", r.expr}, {"ok", r.ok}, {"value", nullptr}, {"metric", r.metric}};
    if (r.value && r.kind == metric_kind::count) {
      entry["value"] = std::llround(*r.value);
    } else if (r.value) {
      entry["value"] = *r.value;
    }
    if (!r.note.empty()) entry["note"] = r.note;
    list.push_back(std::move(entry));
  }
  summary["thresholds"] = std::move(list);
}

std::string thresholds_text(const std::vector<threshold_result>& results) {
  if (results.empty()) return {};
  std::string out = "\n  thresholds\n";
  for (const auto& r : results) {
    out += std::string("    ") + (r.ok ? "✓ " : "✗ ") + r.expr + "  (" + describe(r) + ")\n";
  }
  return out;
}

namespace {

bool windowed(std::string_view metric) {
  for (std::string_view m : {"error_rate", "lost_rate", "p50", "p90", "p99", "p999", "max"}) {
    if (m == metric) return true;
  }
  return false;
}

bool upper_limit(threshold_op op) {
  return op == threshold_op::lt || op == threshold_op::le || op == threshold_op::eq;
}

}  // namespace

bool can_abort(const threshold& t) {
  const auto* m = find_metric(t.metric);
  return m && (m->can_abort || windowed(t.metric)) && upper_limit(t.op);
}

std::optional<double> window_value(std::string_view metric, const run_counters& early,
                                   const run_counters& late) {
  const std::int64_t answers = late.requests_attempted - early.requests_attempted;
  if (answers < abort_watch::min_requests) return std::nullopt;
  if (metric == "error_rate") {
    const auto errors = [](const run_counters& c) {
      return c.requests_rejected + c.requests_failed + c.requests_unacknowledged;
    };
    return static_cast<double>(errors(late) - errors(early)) / static_cast<double>(answers);
  }
  if (metric == "lost_rate") {
    const auto lost = [](const run_counters& c) { return c.rows_rejected + c.rows_failed; };
    const auto ended = [&lost](const run_counters& c) {
      return lost(c) + c.rows_delivered + c.rows_unacknowledged;
    };
    const std::int64_t rows = ended(late) - ended(early);
    if (rows <= 0) return std::nullopt;
    return static_cast<double>(lost(late) - lost(early)) / static_cast<double>(rows);
  }
  double quantile = 0;
  if (metric == "p50") {
    quantile = 0.5;
  } else if (metric == "p90") {
    quantile = 0.9;
  } else if (metric == "p99") {
    quantile = 0.99;
  } else if (metric == "p999") {
    quantile = 0.999;
  } else if (metric == "max") {
    quantile = 1;
  } else {
    return std::nullopt;
  }
  std::int64_t total = 0;
  for (int i = 0; i < run_counters::latency_bucket_count; ++i) {
    total += late.latency_buckets[i] - early.latency_buckets[i];
  }
  if (total == 0) return std::nullopt;
  // The bucket of the answer at rank ceil(q * total), as the histogram ranks them.
  const auto rank = std::max<std::int64_t>(
      1, static_cast<std::int64_t>(std::ceil(quantile * static_cast<double>(total))));
  std::int64_t seen = 0;
  for (int i = 0; i < run_counters::latency_bucket_count; ++i) {
    seen += late.latency_buckets[i] - early.latency_buckets[i];
    if (seen >= rank) return static_cast<double>(run_counters::latency_bucket_floor_us(i)) / 1000.0;
  }
  return std::nullopt;
}

abort_watch::abort_watch(std::vector<threshold> thresholds, millis window, millis grace)
    : thresholds_(std::move(thresholds)), window_(window), grace_(grace) {}

std::optional<threshold_result> abort_watch::check(const run_counters& so_far, millis elapsed) {
  if (auto doomed = doomed_threshold(thresholds_, so_far)) return doomed;
  history_.push_back(mark{elapsed, so_far});
  // What happened in the grace is forgiven: the window reaches back to its end at most
  // (the last mark taken within it is the baseline).
  while (history_.size() >= 2 && history_[1].at <= grace_) history_.erase(history_.begin());
  // Keep the newest mark that is at least a window old, and those after it.
  std::size_t keep_from = 0;
  for (std::size_t i = 0; i < history_.size(); ++i) {
    if (elapsed - history_[i].at >= window_) keep_from = i;
  }
  history_.erase(history_.begin(), history_.begin() + static_cast<std::ptrdiff_t>(keep_from));
  if (elapsed < grace_ || history_.size() < 2) return std::nullopt;
  const mark& early = history_.front();
  bool judged = false;
  for (const auto& t : thresholds_) {
    if (!windowed(t.metric) || !upper_limit(t.op)) continue;
    const auto value = window_value(t.metric, early.counts, so_far);
    judged = judged || value.has_value();
    if (!value || compare(*value, t.op, t.value)) continue;
    threshold_result r;
    r.expr = t.expr;
    r.metric = t.metric;
    r.kind = t.kind;
    r.value = value;
    r.note = t.metric + " was " + (t.kind == metric_kind::time_ms ? "at least " : "") +
             format_value(t.kind, *value) + " over the last " +
             format_ms(static_cast<double>(elapsed - early.at)) + " (" +
             std::to_string(so_far.requests_attempted - early.counts.requests_attempted) +
             " answers)";
    // No window met it yet: the knee is below the first load judged.
    if (!best_) best_ = knee{0, 0, early.at, elapsed, std::nullopt, {}, {}};
    best_->failed_at = elapsed;
    best_->failed = t.expr;
    best_->note = r.note;
    return r;
  }
  if (judged) {
    const double seconds = static_cast<double>(elapsed - early.at) / 1000.0;
    const double rows = static_cast<double>(so_far.rows_delivered - early.counts.rows_delivered);
    if (seconds > 0 && (!best_ || rows / seconds > best_->rows_per_second)) {
      best_ =
          knee{rows / seconds,
               static_cast<double>(so_far.requests_attempted - early.counts.requests_attempted) /
                   seconds,
               early.at,
               elapsed,
               std::nullopt,
               {},
               {}};
    }
  }
  return std::nullopt;
}

bool abort_watch::judges_windows() const {
  return std::any_of(thresholds_.begin(), thresholds_.end(),
                     [](const threshold& t) { return windowed(t.metric) && upper_limit(t.op); });
}

std::optional<threshold_result> doomed_threshold(const std::vector<threshold>& thresholds,
                                                 const run_counters& so_far) {
  for (const auto& t : thresholds) {
    if (!can_abort(t)) continue;
    auto at_least = lower_bound(t.metric, so_far);
    if (!at_least) continue;
    bool doomed = t.op == threshold_op::lt ? *at_least >= t.value : *at_least > t.value;
    if (!doomed) continue;
    threshold_result r;
    r.expr = t.expr;
    r.metric = t.metric;
    r.kind = t.kind;
    r.value = at_least;
    r.note = t.metric + " is " + format_value(t.kind, *at_least) + " already and can only grow";
    return r;
  }
  return std::nullopt;
}

}  // namespace gmsim
