// The HTML report: one self-contained page written section by section, in the order it
// reads (verdict, tiles, charts, distributions, errors, lost rows, thresholds); about 500
// lines, kept as one file so that the page's order is the file's. Its scripts and styles
// are html_report_assets.cpp.
#include "report/html_report.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/bounded_json.hpp"
#include "core/histogram.hpp"
#include "core/markup.hpp"
#include "report/html_report_assets.hpp"
#include "report/report.hpp"
#include "report/thresholds.hpp"

namespace gmsim {
namespace {

using nlohmann::json;

// A field by JSON pointer, or a default when the summary lacks it (an older version's).
std::int64_t count(const json& doc, const char* pointer) {
  const json::json_pointer at(pointer);
  if (!doc.contains(at)) return 0;
  const json& v = doc.at(at);
  return v.is_number() ? v.get<std::int64_t>() : 0;
}

double number(const json& doc, const char* pointer) {
  const json::json_pointer at(pointer);
  if (!doc.contains(at)) return 0;
  const json& v = doc.at(at);
  return v.is_number() ? v.get<double>() : 0;
}

std::string text(const json& doc, const char* pointer) {
  const json::json_pointer at(pointer);
  if (!doc.contains(at)) return "";
  const json& v = doc.at(at);
  return v.is_string() ? v.get<std::string>() : v.dump();
}

bool flag(const json& doc, const char* pointer) {
  const json::json_pointer at(pointer);
  return doc.contains(at) && doc.at(at).is_boolean() && doc.at(at).get<bool>();
}

// 1234567 -> "1,234,567": counts people read at a glance.
std::string grouped(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string iso_time(std::int64_t epoch_ms) {
  const std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[40];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

// The target as the page shows it: as the summary does (redacted unless --show-url), and
// redacted again for a summary from before gmsim 0.2, whose path was shown whole.
std::string shown_target(const json& summary, const std::string& target) {
  const auto given = summary.find("target_redacted");
  if (given != summary.end() && given->is_boolean() && !given->get<bool>()) return target;
  return shown_target_url(target);
}

// A histogram's JSON re-binned at 2 significant digits: a percentile curve on a page
// needs no more, and a long live run's 3-digit latency histograms run to 100 kB each.
// Every 3-digit counter lies inside one 2-digit counter, so min, max and sum still fit.
json coarser_histogram(const json& doc) {
  const histogram exact = histogram::from_json(doc);
  if (exact.significant_digits() <= 2) return doc;
  histogram coarse(exact.highest(), 2);
  // As histogram lays its counters out: 2 * 10^digits values kept exactly, half of them
  // per later bucket.
  std::uint64_t exact_values = 2;
  for (int i = 0; i < exact.significant_digits(); ++i) exact_values *= 10;
  const int half_bits = std::bit_width(exact_values - 1) - 1;
  for (const auto& pair : doc["counts"]) {
    const auto index = pair[0].get<std::uint64_t>();
    const int bucket = std::max(static_cast<int>(index >> half_bits) - 1, 0);
    const std::uint64_t lowest = (index - (static_cast<std::uint64_t>(bucket) << half_bits))
                                 << bucket;
    coarse.record(static_cast<std::int64_t>(lowest), pair[1].get<std::int64_t>());
  }
  json out = coarse.to_json();
  for (const char* key : {"min", "max", "sum", "clamped"}) out[key] = doc.value(key, json(0));
  return out;
}

// The summary as the page embeds it: the target as shown, only the histograms the charts
// draw (coarsened), and safe inside <script>: "</" cannot close the element and "<!--"
// cannot open a comment state.
std::string embedded_summary(json summary) {
  if (summary.contains("target") && summary["target"].is_string()) {
    summary["target"] = shown_target(summary, summary["target"].get<std::string>());
  }
  if (summary.contains("histograms") && summary["histograms"].is_object()) {
    json drawn = json::object();
    for (const char* name : {"latency_us", "latency_uncorrected_us", "delivery_lag_ms"}) {
      if (!summary["histograms"].contains(name)) continue;
      try {
        drawn[name] = coarser_histogram(summary["histograms"][name]);
      } catch (const std::invalid_argument&) {
        // Not one of ours: the chart says it has nothing to draw rather than the page failing.
      }
    }
    summary["histograms"] = std::move(drawn);
  }
  std::string out = summary.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string safe;
  safe.reserve(out.size() + 64);
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out.compare(i, 2, "</") == 0) {
      safe += "<\\/";
      ++i;
    } else if (out.compare(i, 4, "<!--") == 0) {
      safe += "\\u003c!--";
      i += 3;
    } else {
      safe += out[i];
    }
  }
  return safe;
}

struct page_writer {
  std::string out;

  void raw(std::string_view s) { out += s; }
  void esc(std::string_view s) { append_markup_escaped(out, s, markup::html); }
  void row(std::string_view label, const std::string& value) {
    raw("<tr><th>");
    esc(label);
    raw("</th><td>");
    esc(value);
    raw("</td></tr>\n");
  }
  void tile(std::string_view label, std::int64_t value, std::string_view cls,
            const std::string& note = "") {
    raw("<div class=\"tile ");
    raw(cls);
    raw("\"><div class=\"value\">");
    esc(grouped(value));
    raw("</div><div class=\"label\">");
    esc(label);
    if (!note.empty()) {
      raw(" <span class=\"note\">");
      esc(note);
      raw("</span>");
    }
    raw("</div></div>\n");
  }
};

void write_verdict(page_writer& w, const json& s) {
  const bool dry = flag(s, "/dry_run");
  const std::int64_t generated = count(s, "/rows/generated");
  const std::int64_t delivered_rows = count(s, "/rows/delivered");
  const std::int64_t lost = s.contains(json::json_pointer("/rows/lost"))
                                ? count(s, "/rows/lost")
                                : generated - delivered_rows;
  const std::int64_t attempted = count(s, "/requests/attempted");
  const std::int64_t unacknowledged = count(s, "/rows/unacknowledged");
  const std::int64_t errors = count(s, "/requests/rejected") + count(s, "/requests/failed") +
                              count(s, "/requests/unacknowledged");
  const std::int64_t probes = count(s, "/auth_probes/sent");
  const std::int64_t probes_accepted = dry ? 0 : count(s, "/auth_probes/accepted");
  std::int64_t thresholds = 0;
  std::int64_t thresholds_failed = 0;
  if (s.contains("thresholds") && s["thresholds"].is_array()) {
    for (const auto& t : s["thresholds"]) {
      ++thresholds;
      if (!(t.contains("ok") && t["ok"].is_boolean() && t["ok"].get<bool>())) ++thresholds_failed;
    }
  }
  const std::int64_t invalid = count(s, "/receiver/invalid");
  const std::int64_t gaps = count(s, "/receiver/gap_violations");
  const bool interrupted = flag(s, "/interrupted");
  const std::string internal_error = s.contains("internal_error") && s["internal_error"].is_string()
                                         ? s["internal_error"].get<std::string>()
                                         : "";

  std::string cls = "ok";
  if (lost > 0 || thresholds_failed > 0 || probes_accepted > 0 || !internal_error.empty()) {
    cls = "bad";
  } else if (generated == 0 || interrupted || invalid > 0 || gaps > 0 || errors > 0 ||
             unacknowledged > 0) {
    cls = "warn";
  }
  w.raw("<section id=\"verdict\" class=\"verdict " + cls + "\" data-verdict=\"" + cls +
        "\">\n<h1>");
  const std::int64_t traffic = generated - count(s, "/rows/auth_probes");
  if (!internal_error.empty()) {
    w.esc("✗ gmsim failed (not the receiver): " + internal_error +
          "; the figures are what was counted until then");
  } else if (probes_accepted > 0) {
    w.esc("✗ Security finding: " + grouped(probes_accepted) + " of " + grouped(probes) +
          " requests without or with a wrong Authorization were accepted");
  } else if (lost > 0) {
    w.esc("✗ " + grouped(lost) + " rows lost: " + format_percent(lost, traffic) + " of " +
          grouped(traffic) + " generated never reached the receiver");
  } else if (generated == 0) {
    w.esc("No rows were generated");
  } else if (unacknowledged > 0) {
    w.esc("No rows known lost, but " + grouped(unacknowledged) +
          " unacknowledged: sent whole, no answer (the receiver may have stored them)");
  } else {
    w.esc("✓ All " + grouped(traffic) + " rows delivered");
  }
  w.raw("</h1>\n<ul>\n<li>");
  w.esc("Requests: " + grouped(attempted) + " sent, " + grouped(count(s, "/requests/delivered")) +
        " delivered, " + grouped(count(s, "/requests/rejected")) + " rejected, " +
        grouped(count(s, "/requests/failed")) + " failed, " +
        grouped(count(s, "/requests/unacknowledged")) + " unacknowledged; " +
        grouped(count(s, "/requests/unsent")) + " never sent.");
  w.raw(" <strong class=\"");
  w.raw(errors > 0 ? "red" : "green");
  w.raw("\">");
  w.esc("Error rate " + format_percent(errors, attempted) + ".");
  w.raw("</strong></li>\n");
  if (thresholds > 0) {
    w.raw(thresholds_failed > 0 ? "<li class=\"red\"><strong>" : "<li class=\"green\"><strong>");
    w.esc("Thresholds: " + std::to_string(thresholds - thresholds_failed) + " of " +
          std::to_string(thresholds) + " passed.");
    w.raw("</strong></li>\n");
  }
  w.raw("<li>");
  if (dry) {
    w.esc("Dry run: no network, every page answered 200 at once; latencies are 0.");
  } else {
    w.esc("Latency p99 " + format_ms(number(s, "/latency_ms/p99")) + " from the intended send (" +
          format_ms(number(s, "/latency_uncorrected_ms/p99")) + " from the actual send); max " +
          format_ms(number(s, "/latency_ms/max")) + ".");
  }
  w.raw("</li>\n<li>");
  w.esc("Delivery lag p99 " + format_ms(number(s, "/delivery_lag_ms/p99")) + ", max " +
        format_ms(number(s, "/delivery_lag_ms/max")) + " (GMetri's max delay " +
        format_ms(number(s, "/delivery/max_delay_ms")) + ").");
  w.raw("</li>\n");
  if (interrupted)
    w.raw("<li class=\"red\"><strong>Interrupted: the run stopped before its end.</strong></li>\n");
  if (s.contains("knee") && s["knee"].is_object()) {
    // A capacity search (a windowed --abort-on-fail): the rows/s chart shows the rise.
    w.raw("<li id=\"knee\"><strong>");
    w.esc("Knee: " + grouped(static_cast<std::int64_t>(number(s, "/knee/rows_per_second"))) +
          " rows/s delivered in the best window that met every threshold (" +
          format_ms(number(s, "/knee/window_start_ms")) + " to " +
          format_ms(number(s, "/knee/window_end_ms")) + " of wall time)");
    w.raw("</strong>");
    if (s["knee"].contains("failed")) {
      w.esc("; then " + text(s, "/knee/failed") + " failed: " + text(s, "/knee/note") + ".");
    }
    w.raw("</li>\n");
  }
  if (probes > 0) {
    w.raw(probes_accepted > 0 ? "<li class=\"red\"><strong>" : "<li>");
    w.esc(dry ? "Auth probes: " + grouped(probes) +
                    " planned (a dry run cannot tell whether a receiver refuses them)."
              : "Auth probes: " + grouped(probes) +
                    " sent without or with a wrong Authorization, " + grouped(probes_accepted) +
                    " accepted" +
                    (probes_accepted > 0 ? " (a security finding)." : " (all refused: good)."));
    w.raw(probes_accepted > 0 ? "</strong></li>\n" : "</li>\n");
  }
  if (s.contains("receiver")) {
    w.raw(invalid > 0 || gaps > 0 ? "<li class=\"red\">" : "<li>");
    w.esc("The embedded receiver saw " + grouped(count(s, "/receiver/requests")) + " requests: " +
          grouped(invalid) + " invalid bodies, " + grouped(gaps) + " gap violations.");
    w.raw("</li>\n");
  }
  w.raw("</ul>\n</section>\n");
}

void write_tiles(page_writer& w, const json& s) {
  const std::int64_t generated = count(s, "/rows/generated");
  const std::int64_t lost = s.contains(json::json_pointer("/rows/lost"))
                                ? count(s, "/rows/lost")
                                : generated - count(s, "/rows/delivered");
  w.raw("<section class=\"tiles\">\n<h2>Requests</h2><div class=\"row\">\n");
  w.tile("sent", count(s, "/requests/attempted"), "plain");
  w.tile("delivered (2xx)", count(s, "/requests/delivered"), "delivered");
  w.tile("rejected (other status)", count(s, "/requests/rejected"),
         count(s, "/requests/rejected") > 0 ? "rejected" : "plain");
  w.tile("failed (no answer)", count(s, "/requests/failed"),
         count(s, "/requests/failed") > 0 ? "failed" : "plain");
  w.tile("unacknowledged (sent, no answer)", count(s, "/requests/unacknowledged"),
         count(s, "/requests/unacknowledged") > 0 ? "failed" : "plain");
  w.tile("never sent", count(s, "/requests/unsent"),
         count(s, "/requests/unsent") > 0 ? "unsent" : "plain");
  w.raw("</div>\n<h2>Rows</h2><div class=\"row\">\n");
  w.tile("generated", generated, "plain");
  w.tile("delivered", count(s, "/rows/delivered"), "delivered",
         format_percent(count(s, "/rows/delivered"), generated));
  w.tile("lost", lost, lost > 0 ? "lost" : "plain", lost > 0 ? format_percent(lost, generated) : "");
  w.tile("unacknowledged (maybe stored)", count(s, "/rows/unacknowledged"),
         count(s, "/rows/unacknowledged") > 0 ? "unsent" : "plain");
  if (s.contains("auth_probes"))
    w.tile("auth probes' rows", count(s, "/rows/auth_probes"), "minor");
  for (const char* type : {"variables", "rules", "session"}) {
    const std::string pointer = std::string("/rows/by_type/") + type;
    w.tile(std::string(type) + " rows", count(s, pointer.c_str()), "minor");
  }
  w.raw("</div>\n</section>\n");
}

void write_thresholds(page_writer& w, const json& s) {
  if (!s.contains("thresholds") || !s["thresholds"].is_array() || s["thresholds"].empty()) return;
  w.raw(
      "<section id=\"thresholds\"><h2>Thresholds</h2>\n<table class=\"list\"><tr><th>threshold</th>"
      "<th>result</th><th>value</th></tr>\n");
  for (const auto& t : s["thresholds"]) {
    const bool ok = t.contains("ok") && t["ok"].is_boolean() && t["ok"].get<bool>();
    w.raw(ok ? "<tr class=\"pass\"><td>" : "<tr class=\"fail\"><td>");
    w.esc(text(t, "/expr"));
    w.raw(ok ? "</td><td>✓ pass</td><td>" : "</td><td>✗ FAIL</td><td>");
    w.esc(shown_value(threshold_result_of(t)));
    w.raw("</td></tr>\n");
  }
  w.raw("</table></section>\n");
}

void write_chart(page_writer& w, const char* id, const char* title, const char* explain) {
  w.raw(std::string("<figure class=\"chart\" id=\"") + id + "\"><figcaption>");
  w.esc(title);
  w.raw("<span class=\"explain\">");
  w.esc(explain);
  w.raw(
      "</span></figcaption><div class=\"plot\">The charts need JavaScript.</div>"
      "<div class=\"legend\"></div></figure>\n");
}

void write_charts(page_writer& w) {
  w.raw("<section id=\"charts\"><h2>Over time</h2>\n");
  write_chart(w, "chart-requests", "Requests per second, by outcome",
              "By when each request ended. Unsent: pages still queued when the run stopped.");
  write_chart(w, "chart-rows", "Rows per second: delivered and lost",
              "Lost: rows of rejected and failed requests (GMetri never retries). Unsent "
              "pages are in the legend, not drawn: they all count when the run stopped.");
  write_chart(w, "chart-latency", "Latency p50 and p99",
              "From the intended send to the answer (coordinated omission corrected), per bucket.");
  w.raw("<h2>Distributions</h2>\n<div class=\"pair\">\n");
  write_chart(w, "chart-latency-dist", "Latency by percentile",
              "Corrected: from the intended send. Uncorrected: from the actual send.");
  write_chart(w, "chart-lag-dist", "Delivery lag by percentile",
              "Per delivered row, from its oldest event to the answer (scenario time).");
  w.raw("</div>\n</section>\n");
}

// Horizontal bars, plain HTML: statuses and error kinds need no script.
void write_bars(page_writer& w, const json& s) {
  struct bar {
    std::string label;
    std::int64_t n;
    std::string cls;
  };
  std::vector<bar> bars;
  if (s.contains(json::json_pointer("/requests/by_status"))) {
    for (const auto& [status, n] : s["requests"]["by_status"].items()) {
      if (!n.is_number()) continue;
      const char c = status.empty() ? '0' : status[0];
      bars.push_back({"HTTP " + status, n.get<std::int64_t>(),
                      c == '2' ? "delivered" : (c == '5' ? "failed" : "rejected")});
    }
  }
  if (s.contains(json::json_pointer("/requests/by_error"))) {
    for (const auto& [kind, n] : s["requests"]["by_error"].items()) {
      if (n.is_number()) bars.push_back({kind, n.get<std::int64_t>(), "failed"});
    }
  }
  w.raw("<section id=\"errors\"><h2>Answers and errors</h2>\n");
  if (bars.empty()) {
    w.raw("<p class=\"note\">No request was sent.</p></section>\n");
    return;
  }
  std::int64_t most = 1;
  for (const auto& b : bars) most = std::max(most, b.n);
  const std::int64_t attempted = std::max<std::int64_t>(count(s, "/requests/attempted"), 1);
  w.raw("<table class=\"bars\">\n");
  for (const auto& b : bars) {
    char width[32];
    std::snprintf(width, sizeof width, "%.1f",
                  100.0 * static_cast<double>(b.n) / static_cast<double>(most));
    w.raw("<tr><th>");
    w.esc(b.label);
    w.raw("</th><td class=\"n\">");
    w.esc(grouped(b.n));
    w.raw("</td><td class=\"n\">");
    w.esc(format_percent(b.n, attempted));
    w.raw("</td><td class=\"bar\"><div class=\"" + b.cls + "\" style=\"width:" + width +
          "%\"></div></td></tr>\n");
  }
  w.raw(
      "</table>\n<p class=\"note\">Statuses are of sent requests; the error kinds are of "
      "requests that got no status (see docs/reports.md).</p>\n");
  // Why: each cause with an example (the receiver's answer, OpenSSL's reason, the
  // system's), as the console's `why` lines: "tls x21" alone said too little.
  if (s.contains("causes") && s["causes"].is_object() && !s["causes"].empty()) {
    w.raw(
        "<h3>Why</h3>\n<div class=\"scroll\"><table id=\"causes\" class=\"list\"><tr><th>cause</th>"
        "<th>requests</th><th>rows</th><th>example</th></tr>\n");
    for (const auto& [key, cause] : s["causes"].items()) {
      if (!cause.is_object()) continue;
      w.raw("<tr><td>");
      w.esc(key);
      w.raw("</td><td class=\"n\">");
      w.esc(grouped(cause.value("requests", std::int64_t{0})));
      w.raw("</td><td class=\"n\">");
      w.esc(grouped(cause.value("rows", std::int64_t{0})));
      w.raw("</td><td>");
      const auto example = cause.find("example");
      if (example != cause.end() && example->is_string()) w.esc(example->get<std::string>());
      w.raw("</td></tr>\n");
    }
    w.raw("</table></div>\n");
  }
  w.raw("</section>\n");
}

void write_lost_rows(page_writer& w, const json& s, const lost_rows_excerpt& lost) {
  const std::int64_t total = s.contains(json::json_pointer("/rows/lost"))
                                 ? count(s, "/rows/lost")
                                 : count(s, "/rows/generated") - count(s, "/rows/delivered");
  w.raw("<section id=\"lost-rows\"><h2>Lost rows</h2>\n");
  if (total == 0) {
    w.raw("<p class=\"note\">None: every row generated was delivered.</p></section>\n");
    return;
  }
  if (!lost.written) {
    w.raw("<p class=\"note\">");
    w.esc(grouped(total) +
          " rows were lost. Run again with --lost-rows FILE to list each "
          "of them (org, deployment, type, identifier, page, reason).");
    w.raw("</p></section>\n");
    return;
  }
  w.raw("<p class=\"note\">");
  const auto shown = static_cast<std::int64_t>(lost.lines.size());
  if (lost.lines.empty()) {
    w.esc("The ledger " + lost.path + " could not be read.");
  } else if (lost.truncated) {
    w.esc("The first " + grouped(shown) + " of " + grouped(total) +
          " lost rows; all of them are in " + lost.path + ".");
  } else {
    w.esc("All " + grouped(shown) + " lost rows, from " + lost.path + ".");
  }
  w.raw(
      "</p>\n<div class=\"scroll\"><table class=\"list\"><tr><th>type</th><th>org / "
      "dep</th><th>identifier</th>"
      "<th>page</th><th>row</th><th>events</th><th>intended send</th><th>reason</th></tr>\n");
  for (const auto& line : lost.lines) {
    const json row = parse_json_bounded(line, false);
    if (!row.is_object()) {
      w.raw("<tr><td colspan=\"8\">");
      w.esc(line);
      w.raw("</td></tr>\n");
      continue;
    }
    w.raw("<tr><td>");
    w.esc(text(row, "/type"));
    w.raw("</td><td>");
    w.esc(text(row, "/org") + " / " + text(row, "/dep"));
    w.raw("</td><td>");
    w.esc(text(row, "/identifier"));
    w.raw("</td><td class=\"n\">");
    w.esc(text(row, "/page"));
    w.raw("</td><td class=\"n\">");
    w.esc(text(row, "/row"));
    w.raw("</td><td class=\"n\">");
    w.esc(text(row, "/events"));
    w.raw("</td><td class=\"n\">");
    w.esc(format_ms(number(row, "/intended_ms")));
    w.raw("</td><td>");
    w.esc(text(row, "/reason"));
    w.raw("</td></tr>\n");
  }
  w.raw("</table></div></section>\n");
}

void write_settings(page_writer& w, const json& s) {
  w.raw("<section id=\"settings\"><h2>Settings</h2>\n<table class=\"kv\">\n");
  w.row("profile", text(s, "/profile"));
  w.row("seed", text(s, "/seed"));
  w.row("shard", text(s, "/shard"));
  w.row("start time", iso_time(count(s, "/start_time")) + "  (" + text(s, "/start_time") + ")");
  w.row("duration", format_duration(count(s, "/duration_ms")));
  w.row("mode", flag(s, "/dry_run") ? "dry run (simulated clock, no network)" : "live");
  if (!flag(s, "/dry_run")) w.row("target", shown_target(s, text(s, "/target")));
  w.row("workers, deployments, streams, queues",
        text(s, "/workers") + ", " + text(s, "/deployments") + ", " + text(s, "/streams") + ", " +
            text(s, "/queues"));
  w.row("wall time", format_ms(number(s, "/wall_seconds") * 1000));
  w.row("max delay (tick)", format_duration(count(s, "/delivery/max_delay_ms")));
  w.row("rows per request", "at most " + text(s, "/delivery/batch_rows"));
  w.row("min gap", format_duration(count(s, "/delivery/min_gap_ms")));
  w.row("request timeout", format_duration(count(s, "/delivery/timeout_ms")));
  // A summary written before pacing scopes existed paced each stream on its own.
  const std::string scope = text(s, "/delivery/pacing_scope");
  w.row("pacing scope", (scope.empty() ? std::string("stream") : scope) +
                            " (the gap and in flight apply to each such queue)");
  w.row("in flight per queue", text(s, "/delivery/in_flight"));
  w.row("aligned ticks", flag(s, "/delivery/align_ticks") ? "yes" : "no (seeded phases)");
  w.row("gmsim", text(s, "/version"));
  w.raw("</table></section>\n");
}

}  // namespace

lost_rows_excerpt read_lost_rows(const std::string& path, std::size_t max_lines) {
  lost_rows_excerpt out;
  out.written = true;
  out.path = path;
  std::ifstream in(path, std::ios::binary);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (out.lines.size() == max_lines) {
      out.truncated = true;
      break;
    }
    out.lines.push_back(std::move(line));
  }
  return out;
}

std::string html_report(const json& summary, const lost_rows_excerpt& lost) {
  page_writer w;
  const json& s = summary;
  w.raw(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
  w.esc("gmsim " + text(s, "/profile") + ": " + iso_time(count(s, "/start_time")));
  w.raw("</title>\n<style>\n");
  w.raw(html_report_css());
  w.raw(
      "</style></head>\n<body>\n<header><div class=\"title\">gmsim report</div><div "
      "class=\"sub\">");
  w.esc("profile " + text(s, "/profile") + " · seed " + text(s, "/seed") + " · shard " +
        text(s, "/shard") + " · " + format_duration(count(s, "/duration_ms")) + " from " +
        iso_time(count(s, "/start_time")) + " · " +
        (flag(s, "/dry_run") ? std::string("dry run")
                             : "live → " + shown_target(s, text(s, "/target"))));
  w.raw("</div></header>\n<main>\n");
  write_verdict(w, s);
  write_tiles(w, s);
  write_thresholds(w, s);
  write_charts(w);
  write_bars(w, s);
  write_lost_rows(w, s, lost);
  write_settings(w, s);
  w.raw("</main>\n<footer>");
  w.esc("Written by gmsim " + text(s, "/version") +
        ". The summary JSON is embedded in this page (script#summary).");
  w.raw("</footer>\n<script type=\"application/json\" id=\"summary\">");
  w.raw(embedded_summary(summary));
  w.raw("</script>\n<script>\n");
  w.raw(html_report_js());
  w.raw("</script>\n</body></html>\n");
  return std::move(w.out);
}

void write_html_report(const std::string& path, const json& summary,
                       const std::string& lost_rows_path) {
  lost_rows_excerpt lost;
  if (!lost_rows_path.empty()) lost = read_lost_rows(lost_rows_path);
  write_file(path, html_report(summary, lost));
}

}  // namespace gmsim
