#include "report/report.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "core/shown_text.hpp"

namespace gmsim {
namespace {

double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

}  // namespace

nlohmann::json percentiles_json(const histogram& h, double scale, bool with_p999) {
  nlohmann::json out;
  out["p50"] = round3(static_cast<double>(h.percentile(50)) * scale);
  out["p90"] = round3(static_cast<double>(h.percentile(90)) * scale);
  out["p99"] = round3(static_cast<double>(h.percentile(99)) * scale);
  if (with_p999) out["p999"] = round3(static_cast<double>(h.percentile(99.9)) * scale);
  out["max"] = round3(static_cast<double>(h.max()) * scale);
  out["mean"] = round3(h.mean() * scale);
  out["count"] = h.count();
  return out;
}

namespace {

// Above this p99 of sender lateness the summary warns that gmsim was the bottleneck.
// wrk2 keeps about 1 ms; 10 ms leaves room for a busy CI machine and still flags a
// generator that has fallen behind.
constexpr std::int64_t sender_lateness_warning_us = 10'000;
constexpr std::int64_t sender_lateness_min_starts = 100;

// "1 request", "2 requests".
std::string count_of(std::int64_t n, const char* noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

// "12 MiB", rounded up: a spill of 100 bytes is not "0 MiB".
std::string format_bytes(std::int64_t bytes) {
  return std::to_string((std::max<std::int64_t>(0, bytes) + (1 << 20) - 1) >> 20) + " MiB";
}

std::string type_name(int t) { return std::string(to_string(static_cast<webhook_type>(t))); }

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

bool looks_secret(std::string_view header_name) {
  const std::string name = lower(header_name);
  for (const char* whole : {"authorization", "proxy-authorization", "cookie", "set-cookie"}) {
    if (name == whole) return true;
  }
  // Broad on purpose: showing "[redacted]" for a harmless X-Keyboard-Layout costs little;
  // printing an X-Api-Key costs a rotation.
  for (const char* part : {"token", "secret", "key", "auth", "password", "passwd", "session",
                           "signature", "credential"}) {
    if (name.find(part) != std::string::npos) return true;
  }
  return false;
}

std::string shown_header_value(std::string_view name, std::string_view value) {
  return looks_secret(name) ? redacted : std::string(value);
}

nlohmann::json shown_headers(const transport_config& transport) {
  nlohmann::json out = nlohmann::json::object();
  if (!transport.auth_string.empty()) out["Authorization"] = redacted;
  for (const auto& [name, value] : transport.headers) out[name] = shown_header_value(name, value);
  return out;
}

namespace {

std::string percent_decoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto hex = [](char c) {
      return c >= '0' && c <= '9'   ? c - '0'
             : c >= 'a' && c <= 'f' ? c - 'a' + 10
             : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                    : -1;
    };
    if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// A path segment that may be a credential: Slack's /services/T000/B000/<24 letters and
// digits>, a UUID in a capability URL, a segment that names a token or key.
bool looks_like_token(std::string_view segment) {
  if (segment == redacted) return false;
  if (looks_secret(percent_decoded(segment))) return true;
  std::size_t letters = 0, digits = 0;
  for (const char c : segment) {
    if (std::isalpha(static_cast<unsigned char>(c))) ++letters;
    if (std::isdigit(static_cast<unsigned char>(c))) ++digits;
  }
  const std::size_t run = letters + digits;
  return run >= 24 || (run >= 16 && digits > 0 && letters > 0);
}

}  // namespace

std::string shown_target_url(std::string_view url) {
  // scheme://authority stays: the host is what a reader needs; user info is refused.
  const auto scheme_end = url.find("://");
  const std::size_t authority = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  // The path starts at the first '/' before any '?' or '#': in "http://h?sig=a/b" the
  // '/' is the query's.
  std::size_t path_start = url.find_first_of("/?#", authority);
  if (path_start != std::string_view::npos && url[path_start] != '/') path_start = url.npos;
  if (path_start == std::string_view::npos) {
    const auto query = url.find_first_of("?#");
    return query == std::string_view::npos ? std::string(url)
                                           : std::string(url.substr(0, query)) + "?" + redacted;
  }
  std::string out(url.substr(0, path_start));
  const auto query = url.find_first_of("?#", path_start);
  const std::string_view path =
      url.substr(path_start, query == std::string_view::npos ? url.npos : query - path_start);
  for (std::size_t begin = 1; begin <= path.size();) {
    auto end = path.find('/', begin);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(begin, end - begin);
    out += '/';
    const auto parameter = segment.find(';');
    if (parameter != std::string_view::npos) segment = segment.substr(0, parameter);
    out += looks_like_token(segment) ? std::string(redacted) : std::string(segment);
    if (parameter != std::string_view::npos) out += std::string(";") + redacted;
    begin = end + 1;
  }
  // The whole query: a parameter's name may be percent-encoded, or be sig, code or hmac.
  if (query != std::string_view::npos) out += std::string("?") + redacted;
  return out;
}

std::string format_ms(double ms) {
  char buffer[48];
  if (ms < 1) {
    std::snprintf(buffer, sizeof buffer, "%.0fµs", ms * 1000);
  } else if (ms < 1000) {
    std::snprintf(buffer, sizeof buffer, "%.2fms", ms);
  } else if (ms < 60'000) {
    std::snprintf(buffer, sizeof buffer, "%.2fs", ms / 1000);
  } else {
    auto total = static_cast<long long>(std::llround(ms / 1000));
    std::snprintf(buffer, sizeof buffer, "%lldm%02llds", total / 60, total % 60);
  }
  return buffer;
}

nlohmann::json summary_json(const run_config& config, const run_result& r) {
  const run_stats& s = r.stats;
  nlohmann::json j;
  j["version"] = GMSIM_VERSION;
  j["profile"] = config.settings.name;
  j["seed"] = config.settings.seed;
  j["start_time"] = config.settings.start_time;
  j["duration_ms"] = config.settings.duration;
  j["shard"] = std::to_string(config.shard.index) + "/" + std::to_string(config.shard.count);
  j["dry_run"] = config.dry_run;
  j["target"] = config.transport.show_url ? r.target : shown_target_url(r.target);
  if (!config.dry_run) j["target_redacted"] = !config.transport.show_url;
  j["headers"] = shown_headers(config.transport);
  j["workers"] = r.workers;
  j["deployments"] = r.deployments;
  j["streams"] = r.streams;
  j["queues"] = r.queues;
  // The most rows waiting in one queue at once, and the most requests in flight at once
  // (per worker, summed over workers).
  j["queue_peak_rows"] = s.queue_peak_rows;
  j["in_flight_peak"] = s.in_flight_peak;
  // Queued pages past delivery.queue_memory_rows waited on disk: the most bytes at once.
  j["spill_peak_bytes"] = s.spill_peak_bytes;
  if (!s.spill_failure.empty()) j["spill_failure"] = s.spill_failure;
  j["wall_seconds"] = round3(r.wall_seconds);
  j["interrupted"] = r.interrupted;
  j["aborted"] = r.aborted;  // by --abort-on-fail
  if (!r.internal_error.empty()) j["internal_error"] = r.internal_error;
  const auto& d = config.settings.delivery;
  j["delivery"] = {{"max_delay_ms", d.max_delay},
                   {"batch_rows", d.batch_rows},
                   {"min_gap_ms", d.min_gap},
                   {"timeout_ms", d.timeout},
                   {"in_flight", d.in_flight},
                   {"align_ticks", d.align_ticks},
                   {"pacing_scope", std::string(to_string(d.scope))},
                   {"final_flush", std::string(to_string(d.last_flush))},
                   {"flush", std::string(flush_mode_names[static_cast<int>(d.flush)])},
                   {"loop", std::string(load_loop_names[static_cast<int>(d.loop)])},
                   {"variables", std::string(variables_rows_names[static_cast<int>(d.variables)])},
                   {"success", std::string(success_status_names[static_cast<int>(d.success)])}};
  // Traffic is generated for the duration; the last answer may come later (the final
  // flushes, a backlog). Scenario ms since the start.
  j["delivery_ended_ms"] = s.last_answer_ms;
  j["sessions"] = {{"started", s.sessions_started}};
  // The session model's choices (docs/semantics.md's guess table).
  nlohmann::json scenes = nlohmann::json::array();
  for (const auto& scene : config.settings.session.scenes) scenes.push_back(scene.name);
  j["session_model"] = {
      {"devices",
       std::string(device_model_names[static_cast<int>(config.settings.session.devices_drawn)])},
      {"scenes", scenes},
      {"modified_at",
       std::string(session_modified_names[static_cast<int>(config.settings.session.modified_at)])}};
  j["events"] = {{"generated", s.events_generated}};

  nlohmann::json by_status = nlohmann::json::object();
  for (const auto& [status, n] : s.by_status) by_status[std::to_string(status)] = n;
  nlohmann::json by_error = nlohmann::json::object();
  for (int k = 1; k < failure_kind_count; ++k) {
    if (s.by_error[k] != 0)
      by_error[std::string(to_string(static_cast<failure_kind>(k)))] = s.by_error[k];
  }
  nlohmann::json requests_by_type = nlohmann::json::object();
  nlohmann::json rows_by_type = nlohmann::json::object();
  for (int t = 0; t < webhook_type_count; ++t) {
    requests_by_type[type_name(t)] = s.requests_by_type[t];
    rows_by_type[type_name(t)] = s.rows_by_type[t];
  }
  nlohmann::json rows_by_outcome = nlohmann::json::object();
  for (int t = 0; t < webhook_type_count; ++t) {
    nlohmann::json per = nlohmann::json::object();
    for (int k = 0; k < outcome_kind_count; ++k) {
      per[std::string(to_string(static_cast<outcome_kind>(k)))] = s.rows_by_type_outcome[t][k];
    }
    rows_by_outcome[type_name(t)] = std::move(per);
  }
  j["requests"] = {{"attempted", s.requests_attempted},
                   {"delivered", s.requests_delivered},
                   {"rejected", s.requests_rejected},
                   {"failed", s.requests_failed},
                   {"unacknowledged", s.requests_unacknowledged},
                   {"unsent", s.requests_unsent},
                   {"dropped", s.requests_dropped},
                   {"by_status", by_status},
                   {"by_error", by_error},
                   {"by_type", requests_by_type},
                   {"bytes", s.bytes_sent}};
  // generated = delivered + rejected + failed + unacknowledged + unsent + auth_probes;
  // lost = rejected + failed + unsent: the rows known not to have been accepted.
  j["rows"] = {{"generated", s.rows_generated},
               {"delivered", s.rows_delivered},
               {"rejected", s.rows_rejected},
               {"failed", s.rows_failed},
               {"unacknowledged", s.rows_unacknowledged},
               {"unsent", s.rows_unsent},
               {"auth_probes", s.auth_probe_rows},
               {"lost", s.rows_lost()},
               {"dropped", s.rows_dropped},
               {"spilled", s.rows_spilled},
               {"by_type", rows_by_type},
               {"by_type_outcome", rows_by_outcome}};
  // Why requests did not deliver, the most rows first: an example of each.
  nlohmann::json causes = nlohmann::json::object();
  for (const auto& [key, c] : s.causes) {
    causes[key] = {{"requests", c.requests}, {"rows", c.rows}, {"example", c.example}};
  }
  j["causes"] = std::move(causes);
  j["latency_ms"] = percentiles_json(s.latency_us, 0.001, true);
  j["latency_uncorrected_ms"] = percentiles_json(s.latency_uncorrected_us, 0.001, true);
  j["delivery_lag_ms"] = percentiles_json(s.lag_ms, 1, false);
  j["send_delay_ms"] = percentiles_json(s.send_delay_us, 0.001, true);
  j["start_delay_ms"] = percentiles_json(s.start_delay_us, 0.001, true);
  j["page_rows"] = percentiles_json(s.page_rows, 1, false);
  j["page_bytes"] = percentiles_json(s.page_bytes, 1, false);
  j["histograms"] = {{"latency_us", s.latency_us.to_json()},
                     {"latency_uncorrected_us", s.latency_uncorrected_us.to_json()},
                     {"delivery_lag_ms", s.lag_ms.to_json()},
                     {"send_delay_us", s.send_delay_us.to_json()},
                     {"start_delay_us", s.start_delay_us.to_json()},
                     {"page_rows", s.page_rows.to_json()},
                     {"page_bytes", s.page_bytes.to_json()}};
  if (s.auth_probes != 0) {
    j["auth_probes"] = {
        {"sent", s.auth_probes}, {"accepted", s.auth_probes_accepted}, {"rows", s.auth_probe_rows}};
    // "fail": an accepted probe fails the run (auth_probes_accepted==0 is added to the
    // thresholds); "report": only reported (--auth-probes report).
    j["auth_probes_gate"] = config.auth_probes_gate ? "fail" : "report";
  }
  j["timeseries"] = s.over_time.to_json();
  if (r.receiver) j["receiver"] = to_json(*r.receiver);
  j["thresholds"] = nlohmann::json::array();
  return j;
}

std::string summary_text(const run_config& config, const run_result& r) {
  const run_stats& s = r.stats;
  std::ostringstream o;
  const auto& p = config.settings;
  o << "\n  gmsim " << GMSIM_VERSION << "  profile " << p.name << "  seed " << p.seed;
  if (config.shard.count > 1) o << "  shard " << config.shard.index << "/" << config.shard.count;
  o << "\n  "
    << (config.dry_run
            ? "dry run: simulated clock, no network"
            : "live: " + (config.transport.show_url ? r.target : shown_target_url(r.target)))
    << "\n  " << count_of(static_cast<std::int64_t>(r.deployments), "deployment") << ", "
    << count_of(static_cast<std::int64_t>(r.streams), "stream") << " in "
    << count_of(static_cast<std::int64_t>(r.queues), "queue") << " (pacing scope "
    << to_string(p.delivery.scope) << "), " << count_of(r.workers, "worker") << "\n  ";
  // The modelling choices that are not the defaults (docs/semantics.md's guess table),
  // so that a report says which model it measured.
  std::vector<std::string> choices;
  const auto& d = p.delivery;
  if (d.last_flush != final_flush::own_tick) choices.push_back("final_flush at_duration");
  if (d.flush != flush_mode::periodic) choices.push_back("flush eager");
  if (d.loop == load_loop::closed) {
    choices.push_back(config.dry_run ? "loop closed (a dry run has no receiver: ran open)"
                                     : "loop closed");
  }
  if (d.variables != variables_rows::changed) {
    choices.push_back("variables " +
                      std::string(variables_rows_names[static_cast<int>(d.variables)]));
  }
  if (d.success != success_status::any_2xx) choices.push_back("success 200");
  if (p.session.devices_drawn != device_model::table) choices.push_back("devices free_draw");
  // Without a script, rules fire freely: worth saying where rules are sent.
  bool rules_sent = false;
  for (const auto& org : p.orgs) {
    for (const auto& dep : org.deployments) rules_sent = rules_sent || dep.types[static_cast<int>(webhook_type::rules)];
  }
  if (p.session.scenes.empty() && !p.session.rules.empty() && rules_sent) {
    choices.push_back("no experience script");
  }
  if (p.session.modified_at != session_modified::created)
    choices.push_back("modified_at latest_event");
  if (!choices.empty()) {
    o << "model: ";
    for (std::size_t i = 0; i < choices.size(); ++i) o << (i == 0 ? "" : ", ") << choices[i];
    o << " (docs/semantics.md)\n  ";
  }
  o << format_duration(p.duration) << " of traffic";
  if (s.requests_attempted > 0) o << ", the last answer at " << format_ms(static_cast<double>(s.last_answer_ms));
  o << "; " << format_ms(r.wall_seconds * 1000) << " of wall time"
    << (r.interrupted ? " (interrupted)" : "") << "\n";
  if (!r.internal_error.empty()) {
    o << "  INTERNAL ERROR (gmsim's, not the receiver's): " << r.internal_error
      << "\n  the figures below are what was counted until then\n";
  }
  o << "\n";

  // A label padded to 18 columns, then the text, however long (a list of headers can be).
  auto row = [&](std::string_view label, const std::string& text) {
    o << "  " << label << std::string(label.size() < 18 ? 18 - label.size() : 0, ' ') << " "
      << text << "\n";
  };
  if (!config.dry_run) {
    std::string headers;
    const nlohmann::json shown = shown_headers(config.transport);
    for (const auto& [name, value] : shown.items()) {
      headers += (headers.empty() ? "" : ", ") + name + ": " + value.get<std::string>();
    }
    if (!headers.empty()) row("headers", headers);
  }
  row("sessions", std::to_string(s.sessions_started) + " started, " +
                      std::to_string(s.events_generated) + " viewer events");
  row("requests", std::to_string(s.requests_attempted) +
                      " sent: " + std::to_string(s.requests_delivered) + " delivered, " +
                      std::to_string(s.requests_rejected) + " rejected, " +
                      std::to_string(s.requests_failed) + " failed" +
                      (s.requests_unacknowledged == 0
                           ? std::string()
                           : ", " + std::to_string(s.requests_unacknowledged) + " unacknowledged") +
                      "; " + std::to_string(s.requests_unsent) + " unsent");
  // Per type, what became of its rows: where a run lost rows, which webhook lost them.
  for (int t = 0; t < webhook_type_count; ++t) {
    if (s.requests_by_type[t] == 0) continue;
    const auto& by = s.rows_by_type_outcome[t];
    std::string text = count_of(s.requests_by_type[t], "request") + ", " +
                       count_of(s.rows_by_type[t], "row") + ": " +
                       std::to_string(by[static_cast<int>(outcome_kind::delivered)]) + " delivered";
    for (const auto kind : {outcome_kind::rejected, outcome_kind::failed,
                            outcome_kind::unacknowledged, outcome_kind::unsent}) {
      const std::int64_t n = by[static_cast<int>(kind)];
      if (n != 0) text += ", " + std::to_string(n) + " " + std::string(to_string(kind));
    }
    row(("  " + type_name(t)).c_str(), text);
  }
  // Per second of the run, as the thresholds rps and rows_per_second: of wall time live,
  // of simulated time in a dry run.
  const double seconds = config.dry_run ? static_cast<double>(p.duration) / 1000 : r.wall_seconds;
  if (seconds > 0 && s.requests_attempted > 0) {
    char rate[160];
    std::snprintf(rate, sizeof rate, "%.1f requests/s sent, %.1f rows/s delivered (over %s of %s)",
                  static_cast<double>(s.requests_attempted) / seconds,
                  static_cast<double>(s.rows_delivered) / seconds,
                  format_ms(seconds * 1000).c_str(),
                  config.dry_run ? "simulated time" : "wall time");
    row("throughput", rate);
  }
  const std::int64_t lost = s.rows_lost();
  // Of the traffic's rows: an auth probe's are apart (its own line, below).
  row("rows", std::to_string(s.rows_generated) + " generated" +
                  (s.auth_probe_rows == 0
                       ? std::string()
                       : " (" + std::to_string(s.auth_probe_rows) + " of them in auth probes)") +
                  ", " + std::to_string(s.rows_delivered) + " delivered (" +
                  format_percent(s.rows_delivered, s.rows_generated - s.auth_probe_rows) + ")");
  row("rows lost",
      std::to_string(lost) + (lost == 0 ? ""
                                        : "  (rejected " + std::to_string(s.rows_rejected) +
                                              ", failed " + std::to_string(s.rows_failed) +
                                              ", unsent " + std::to_string(s.rows_unsent) + ")"));
  if (s.rows_unacknowledged > 0) {
    row("unacknowledged",
        std::to_string(s.rows_unacknowledged) + " rows in " +
            count_of(s.requests_unacknowledged, "request") +
            " sent whole that got no answer (timeout or reset): the receiver may have stored "
            "them; not counted lost: check your store (gmsim verify, docs/verify.md)");
  }
  if (s.rows_dropped > 0) {
    row("", std::to_string(s.rows_dropped) +
                " of the unsent dropped by gmsim itself: its queues held " +
                std::to_string(p.delivery.max_queued_rows) +
                " rows (delivery.max_queued_rows, its memory bound); the receiver fell that far "
                "behind. --max-queued-rows raises it");
  }
  if (!s.by_status.empty()) {
    std::string text;
    for (const auto& [status, n] : s.by_status) {
      text += (text.empty() ? "" : "  ") + std::to_string(status) + " x" + std::to_string(n);
    }
    row("statuses", text);
    std::int64_t other_2xx = 0;
    for (const auto& [status, n] : s.by_status) {
      if (status >= 201 && status <= 299) other_2xx += n;
    }
    if (other_2xx > 0 && p.delivery.success == success_status::any_2xx) {
      row("", count_of(other_2xx, "request") + " answered 2xx but not 200, counted delivered; "
              "GMetri documents 200 (delivery.success \"200\" counts them rejected)");
    }
  }
  std::string errors;
  for (int k = 1; k < failure_kind_count; ++k) {
    if (s.by_error[k] == 0) continue;
    errors += (errors.empty() ? "" : "  ") + std::string(to_string(static_cast<failure_kind>(k))) +
              " x" + std::to_string(s.by_error[k]);
  }
  if (!errors.empty()) row("errors", errors);
  if (const auto local = s.by_error[static_cast<int>(failure_kind::local_resource)]; local > 0) {
    row("WARNING", std::to_string(local) +
                       " requests failed in gmsim itself, not at the receiver (local_resource: "
                       "out of descriptors, local ports or memory; the why line says which): "
                       "raise `ulimit -n`, or run fewer queues per machine (--shard)");
  }
  // Why: each distinct cause, the most rows first, with one example's details (the
  // response body's first bytes for a status).
  if (!s.causes.empty()) {
    std::vector<std::pair<std::string, const run_counters::cause*>> causes;
    for (const auto& [key, c] : s.causes) causes.emplace_back(key, &c);
    std::stable_sort(causes.begin(), causes.end(),
                     [](const auto& a, const auto& b) { return a.second->rows > b.second->rows; });
    bool first = true;
    for (const auto& [key, c] : causes) {
      std::string text =
          key + " x" + std::to_string(c->requests) + " (" + count_of(c->rows, "row") + ")";
      // A status's example starts with the key ("status 500: {...}"): not twice.
      std::string_view example = c->example;
      if (example.starts_with(key)) example.remove_prefix(key.size());
      if (example.starts_with(": ")) example.remove_prefix(2);
      if (!example.empty()) text.append(": ").append(example);
      row(first ? "why" : "", text);
      first = false;
    }
  }
  // Latencies show p99.9 too (k6 and wrk2 do); lag is per row, p99 is enough there.
  auto dist = [&](const histogram& h, double scale, bool p999 = false) {
    if (h.count() == 0) return std::string("-");
    return "p50 " + format_ms(h.percentile(50) * scale) + "  p90 " +
           format_ms(h.percentile(90) * scale) + "  p99 " + format_ms(h.percentile(99) * scale) +
           (p999 ? "  p99.9 " + format_ms(h.percentile(99.9) * scale) : std::string()) + "  max " +
           format_ms(h.max() * scale);
  };
  row("page rows", s.page_rows.count() == 0
                       ? "-"
                       : "p50 " + std::to_string(s.page_rows.percentile(50)) + "  max " +
                             std::to_string(s.page_rows.max()) + "  (limit " +
                             std::to_string(p.delivery.batch_rows) + ")");
  row("page bytes", s.page_bytes.count() == 0
                        ? "-"
                        : "p50 " + std::to_string(s.page_bytes.percentile(50)) + "  max " +
                              std::to_string(s.page_bytes.max()));
  // How deep the worst pacing queue got: one webhook's queue drains at most one page per
  // min_gap, so this is where a backlog shows before the lag does.
  row("queues", "worst " + count_of(s.queue_peak_rows, "row") + " waiting in one; " +
                    std::to_string(s.in_flight_peak) + " in flight at most (" +
                    std::to_string(p.delivery.in_flight) + " per queue)" +
                    (s.rows_spilled > 0
                         ? "; " + count_of(s.rows_spilled, "row") + " waited on disk (at most " +
                               format_bytes(s.spill_peak_bytes) + "; delivery.queue_memory_rows)"
                         : ""));
  if (!s.spill_failure.empty()) {
    row("",
        "WARNING: queued pages could not wait on disk, so they stayed in memory (nothing "
        "lost): " +
            shown_text(s.spill_failure) + "; --spill-dir names another directory");
  }
  row("delivery lag",
      p.delivery.loop == load_loop::closed && !config.dry_run
          ? "not measured: a closed loop's scenario runs at the receiver's pace"
          : dist(s.lag_ms, 1) + "  (max delay " + format_duration(p.delivery.max_delay) + ")");
  if (!config.dry_run) {
    row("latency", dist(s.latency_us, 0.001, true));
    row("  uncorrected", dist(s.latency_uncorrected_us, 0.001, true));
    row("sender lateness", dist(s.start_delay_us, 0.001, true));
    // A load generator that cannot keep its own schedule measures itself, not the
    // receiver: say so where nobody can miss it.
    // A p99 of fewer than 100 starts is their maximum: one slow start is no finding.
    if (s.start_delay_us.count() >= sender_lateness_min_starts &&
        s.start_delay_us.percentile(99) > sender_lateness_warning_us) {
      row("WARNING",
          "gmsim started requests late (p99 " + format_ms(s.start_delay_us.percentile(99) * 0.001) +
              " after the pacing rules allowed): this machine, not the receiver, limited the run;" +
              (r.replay ? " use more --workers, or a smaller --time-scale"
                        : " use more --workers or split it with --shard"));
    }
  }
  if (s.auth_probes != 0) {
    if (config.dry_run) {
      row("auth probes", std::to_string(s.auth_probes) +
                             " planned (a dry run cannot tell whether a receiver refuses them)");
    } else if (s.auth_probes_accepted == 0) {
      row("auth probes", std::to_string(s.auth_probes) +
                             " sent without or with a wrong Authorization: all refused (good)");
    } else {
      row("auth probes", "SECURITY FINDING: " + std::to_string(s.auth_probes_accepted) + " of " +
                             std::to_string(s.auth_probes) +
                             " requests without or with a wrong Authorization were accepted" +
                             (config.auth_probes_gate
                                  ? "; this fails the run (--auth-probes report only reports it)"
                                  : " (--auth-probes report: not a failure of the run)"));
    }
  }
  if (r.receiver) {
    const auto& c = *r.receiver;
    row("receiver saw", count_of(c.requests, "request") + ", " + std::to_string(c.rows_accepted) +
                            " rows accepted, " + std::to_string(c.invalid) + " invalid, " +
                            std::to_string(c.gap_violations) + " gap violations");
  }
  return o.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error(path + ": cannot write: " + std::strerror(errno));
  out << text;
  out.close();
  if (!out) throw std::runtime_error(path + ": cannot write: " + std::strerror(errno));
}

}  // namespace gmsim
