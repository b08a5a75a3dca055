#include "report/merge.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>

#include "core/bounded_json.hpp"
#include "core/file_io.hpp"
#include "core/histogram.hpp"
#include "report/report.hpp"

namespace gmsim {
namespace {

using json = nlohmann::json;

// The percentile blocks of a summary and the histograms they come from, with the scale
// and p999 flag summary_json gives them (report.cpp): the merged blocks must read as an
// unsharded run's would.
struct percentile_block {
  const char* block;
  const char* histogram;
  double scale;
  bool p999;
};
constexpr percentile_block blocks[] = {
    {"latency_ms", "latency_us", 0.001, true},
    {"latency_uncorrected_ms", "latency_uncorrected_us", 0.001, true},
    {"delivery_lag_ms", "delivery_lag_ms", 1, false},
    {"send_delay_ms", "send_delay_us", 0.001, true},
    {"start_delay_ms", "start_delay_us", 0.001, true},
    {"page_rows", "page_rows", 1, false},
    {"page_bytes", "page_bytes", 1, false},
};

// Objects of counts that add up field by field, nested maps (by_status, ...) included.
// auth_probes: written by runs that send auth probes (main's summary_json, when any).
constexpr const char* count_sections[] = {"sessions", "events",   "requests",
                                          "rows",     "receiver", "auth_probes"};

[[noreturn]] void fail(const std::string& path, const std::string& reason) {
  throw merge_error(path + ": " + reason);
}

// A count: an integer in 0 .. INT64_MAX. Anything else is no summary gmsim wrote: two
// counts of INT64_MAX summed to -2, and negative ones were summed, before.
std::int64_t count_value(const json& value, const std::string& path, const std::string& field) {
  if (value.is_number_unsigned() &&
      value.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
    fail(path, field + ": " + value.dump() + " is too large for a count");
  }
  if (!value.is_number_integer()) fail(path, field + " is not a count: " + value.dump());
  const std::int64_t n = value.get<std::int64_t>();
  if (n < 0) fail(path, field + ": " + std::to_string(n) + " is negative: not a count");
  return n;
}

// a + b, or a failure naming the field when the total does not fit a count.
std::int64_t add_count(std::int64_t a, std::int64_t b, const std::string& path,
                       const std::string& field) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    fail(path, field + ": the total overflows a count (" + std::to_string(a) + " + " +
                   std::to_string(b) + ")");
  }
  return sum;
}

// A summary's optional top-level fields, each of its type or absent.
std::int64_t count_field(const json& doc, const char* key, const std::string& path) {
  return doc.contains(key) ? count_value(doc[key], path, key) : 0;
}
double seconds_field(const json& doc, const char* key, const std::string& path) {
  if (!doc.contains(key)) return 0;
  if (!doc[key].is_number() || doc[key].get<double>() < 0) {
    fail(path, std::string(key) + " is not a number of seconds: " + doc[key].dump());
  }
  return doc[key].get<double>();
}
bool flag_field(const json& doc, const char* key, const std::string& path) {
  if (!doc.contains(key)) return false;
  if (!doc[key].is_boolean())
    fail(path, std::string(key) + " is not true or false: " + doc[key].dump());
  return doc[key].get<bool>();
}

void add_counts(json& into, const json& from, const std::string& path, const std::string& where) {
  if (!from.is_object()) fail(path, where + " is not an object of counts");
  for (const auto& [key, value] : from.items()) {
    std::string field = where;
    field.append(".").append(key);
    if (value.is_object()) {
      if (!into.contains(key)) into[key] = json::object();
      add_counts(into[key], value, path, field);
    } else {
      const std::int64_t n = count_value(value, path, field);
      if (into.contains(key) && !into[key].is_number_integer()) {
        fail(path, field + " is a count here and an object in an input before");
      }
      into[key] = into.contains(key) ? add_count(into[key].get<std::int64_t>(), n, path, field) : n;
    }
  }
}

// causes: {CAUSE: {requests, rows, example}}: the counts add up, the first example stays.
void merge_causes(json& out, const json& doc, const std::string& path) {
  if (!doc.contains("causes")) return;
  const json& causes = doc["causes"];
  if (!causes.is_object()) fail(path, "causes is not an object");
  if (!out.contains("causes")) out["causes"] = json::object();
  for (const auto& [key, c] : causes.items()) {
    if (!c.is_object() || !c.contains("requests") || !c.contains("rows")) {
      fail(path, "causes." + key + " is not {requests, rows, example}");
    }
    const std::int64_t requests = count_value(c["requests"], path, "causes." + key + ".requests");
    const std::int64_t rows = count_value(c["rows"], path, "causes." + key + ".rows");
    json& into = out["causes"][key];
    if (into.is_null()) {
      into = {
          {"requests", 0},
          {"rows", 0},
          {"example", c.contains("example") && c["example"].is_string() ? c["example"] : json("")}};
    }
    into["requests"] = add_count(into["requests"].get<std::int64_t>(), requests, path,
                                 "causes." + key + ".requests");
    into["rows"] =
        add_count(into["rows"].get<std::int64_t>(), rows, path, "causes." + key + ".rows");
  }
}

bool read_shard(const json& doc, int& index, int& count) {
  const auto& text = doc["shard"].get_ref<const std::string&>();
  char slash = 0;
  std::istringstream in(text);
  return (in >> index >> slash >> count) && slash == '/' && in.eof() && count >= 1 && index >= 1 &&
         index <= count;
}

// Unless force, throws on the first input that is not a shard of the first one's run.
// Returns whether the inputs are exactly shards 1/N..N/N of one run.
bool check_shards(const std::vector<summary_file>& inputs, bool force) {
  const summary_file& first = inputs.front();
  int first_count = 0;
  const summary_file* split_of = nullptr;  // the first input with an I/N shard
  std::map<int, const summary_file*> seen;
  auto mismatch = [&](const summary_file& f, const std::string& reason) {
    if (!force) fail(f.path, reason + " (--force merges anyway)");
    return false;
  };
  bool complete = true;
  for (const auto& f : inputs) {
    for (const char* field : {"profile", "seed", "start_time"}) {
      const json& mine = f.doc.contains(field) ? f.doc[field] : json();
      const json& theirs = first.doc.contains(field) ? first.doc[field] : json();
      if (mine != theirs) {
        complete =
            mismatch(f, std::string(field) + " " + mine.dump() + " differs from " + first.path +
                            "'s " + theirs.dump() + ": not a shard of the same run" +
                            (std::string(field) == "start_time"
                                 ? " (live shards need one --start-time: a live run's default "
                                   "is its own now)"
                                 : ""));
      }
    }
    int index = 0, count = 0;
    if (!read_shard(f.doc, index, count)) {
      complete =
          mismatch(f, "shard " + f.doc["shard"].dump() + " is not I/N: not one shard of a run");
      continue;
    }
    if (split_of == nullptr) {
      split_of = &f;
      first_count = count;
    }
    if (count != first_count) {
      complete = mismatch(f, "shard " + std::to_string(index) + "/" + std::to_string(count) +
                                 " is not of the same split as " + split_of->path + "'s " +
                                 split_of->doc["shard"].get<std::string>());
      continue;
    }
    auto [it, added] = seen.emplace(index, &f);
    if (!added) {
      complete = mismatch(f, "duplicate shard " + std::to_string(index) + "/" +
                                 std::to_string(count) + " (" + it->second->path + " has it too)");
    }
  }
  for (int i = 1; complete && i <= first_count; ++i) {
    if (!seen.count(i)) {
      complete =
          mismatch(*split_of, "shard " + std::to_string(i) + "/" + std::to_string(first_count) +
                                  " is missing from the inputs");
    }
  }
  return complete;
}

void require(const summary_file& f, const char* section,
             std::initializer_list<const char*> fields) {
  const json& doc = f.doc;
  if (!doc.contains(section))
    fail(f.path, std::string("not a gmsim summary: no \"") + section + "\"");
  for (const char* name : fields) {
    if (!doc[section].is_object() || !doc[section].contains(name)) {
      fail(f.path, std::string("not a gmsim summary: no \"") + section + "." + name + "\"");
    }
  }
}

void check_summary(const summary_file& f) {
  const json& doc = f.doc;
  if (!doc.is_object()) fail(f.path, "not a gmsim summary: not a JSON object");
  for (const char* name : {"version", "profile", "shard"}) {
    if (!doc.contains(name)) fail(f.path, std::string("not a gmsim summary: no \"") + name + "\"");
    if (!doc[name].is_string()) fail(f.path, std::string("\"") + name + "\" is not a string");
  }
  if (!doc.contains("seed") || !doc["seed"].is_number_integer() || doc["seed"] < 0) {
    fail(f.path, "not a gmsim summary: no \"seed\" integer");
  }
  require(f, "events", {"generated"});
  require(f, "requests", {"attempted", "delivered", "rejected", "failed", "by_status", "by_error"});
  require(f, "rows", {"generated", "delivered", "rejected", "failed", "unsent", "by_type"});
  if (!doc.contains("histograms")) {
    fail(f.path,
         "no \"histograms\": this summary cannot be merged exactly (written by an older gmsim?)");
  }
  for (const auto& b : blocks) {
    if (!doc["histograms"].is_object() || !doc["histograms"].contains(b.histogram)) {
      fail(f.path, std::string("no \"histograms.") + b.histogram + "\": cannot be merged exactly");
    }
  }
}

// Distinct values of a string field, in input order, joined.
std::string distinct(const std::vector<summary_file>& inputs, const char* field,
                     const char* separator) {
  std::vector<std::string> seen;
  for (const auto& f : inputs) {
    if (!f.doc.contains(field) || !f.doc[field].is_string()) continue;
    const auto& v = f.doc[field].get_ref<const std::string&>();
    if (std::find(seen.begin(), seen.end(), v) == seen.end()) seen.push_back(v);
  }
  std::string out;
  for (const auto& v : seen) out += (out.empty() ? "" : separator) + v;
  return out;
}

}  // namespace

summary_file read_summary(const std::string& path) {
  summary_file f{path, {}};
  std::string text;
  try {
    // A summary is a few hundred kB (its histograms); 64 MiB is no summary gmsim wrote.
    text = read_whole_file(path, std::uint64_t{64} << 20, "summary");
  } catch (const std::runtime_error& e) {
    throw merge_error(e.what());
  }
  try {
    f.doc = parse_json_bounded(text);
  } catch (const json_too_deep& e) {
    fail(path, std::string("not a summary: ") + e.what());
  } catch (const json::parse_error& e) {
    fail(path, "not JSON (at byte " + std::to_string(e.byte) + ")");
  } catch (const json::exception& e) {
    // out_of_range: a number beyond a double (1e999) is no summary gmsim wrote.
    fail(path, std::string("not a summary: ") + e.what());
  }
  check_summary(f);
  return f;
}

json merge_summaries(const std::vector<summary_file>& inputs, bool force) {
  if (inputs.empty()) throw merge_error("nothing to merge");
  for (const auto& f : inputs) check_summary(f);
  const bool complete = check_shards(inputs, force);
  const json& first = inputs.front().doc;

  json out = json::object();
  out["version"] = first["version"];
  out["profile"] = distinct(inputs, "profile", "+");
  out["seed"] = first["seed"];
  for (const char* field : {"start_time", "delivery", "session_model", "auth_probes_gate"}) {
    if (first.contains(field)) out[field] = first[field];
  }
  out["shard"] = complete ? "1/1" : "merged";
  out["target"] = distinct(inputs, "target", ", ");
  json merged_from = json::array();
  std::int64_t duration = 0, workers = 0, deployments = 0, streams = 0, queues = 0;
  std::int64_t queue_peak_rows = 0, in_flight_peak = 0, spill_peak_bytes = 0;
  std::string spill_failure;
  double wall = 0;
  bool dry_run = true, interrupted = false;
  std::optional<bool> aborted;  // only when the inputs say (--abort-on-fail)
  std::string internal_errors;
  for (const auto& f : inputs) {
    const json& d = f.doc;
    const std::string& p = f.path;
    merged_from.push_back(p);
    duration = std::max(duration, count_field(d, "duration_ms", p));
    workers = add_count(workers, count_field(d, "workers", p), p, "workers");
    deployments = add_count(deployments, count_field(d, "deployments", p), p, "deployments");
    streams = add_count(streams, count_field(d, "streams", p), p, "streams");
    // Shards never share a queue.
    queues = add_count(queues, count_field(d, "queues", p), p, "queues");
    queue_peak_rows = std::max(queue_peak_rows, count_field(d, "queue_peak_rows", p));
    in_flight_peak =
        add_count(in_flight_peak, count_field(d, "in_flight_peak", p), p, "in_flight_peak");
    // Summaries from before the spill (2026-12) have none.
    if (d.contains("spill_peak_bytes")) {
      spill_peak_bytes =
          add_count(spill_peak_bytes, count_field(d, "spill_peak_bytes", p), p, "spill_peak_bytes");
    }
    if (spill_failure.empty() && d.contains("spill_failure") && d["spill_failure"].is_string()) {
      spill_failure = p + ": " + d["spill_failure"].get<std::string>();
    }
    wall = std::max(wall, seconds_field(d, "wall_seconds", p));
    // Each input's flags are read, whatever the others say.
    dry_run = flag_field(d, "dry_run", p) && dry_run;
    interrupted = flag_field(d, "interrupted", p) || interrupted;
    if (d.contains("aborted")) aborted = flag_field(d, "aborted", p) || aborted.value_or(false);
    // A shard that failed on its own makes the merged figures partial.
    if (d.contains("internal_error") && d["internal_error"].is_string()) {
      internal_errors +=
          (internal_errors.empty() ? "" : "; ") + p + ": " + d["internal_error"].get<std::string>();
    }
    for (const char* section : count_sections) {
      if (!d.contains(section)) continue;
      if (!out.contains(section)) out[section] = json::object();
      add_counts(out[section], d[section], f.path, section);
    }
    merge_causes(out, d, f.path);
  }
  out["merged_from"] = merged_from;
  out["duration_ms"] = duration;
  out["dry_run"] = dry_run;
  out["workers"] = workers;
  out["deployments"] = deployments;
  out["streams"] = streams;
  out["queues"] = queues;
  out["queue_peak_rows"] = queue_peak_rows;
  out["in_flight_peak"] = in_flight_peak;
  out["spill_peak_bytes"] = spill_peak_bytes;
  if (!spill_failure.empty()) out["spill_failure"] = spill_failure;
  out["wall_seconds"] = wall;
  out["interrupted"] = interrupted;
  if (aborted) out["aborted"] = *aborted;
  if (!internal_errors.empty()) out["internal_error"] = internal_errors;

  // Every histogram of the inputs merges, those without a percentile block included.
  std::map<std::string, histogram> merged;
  for (const auto& f : inputs) {
    for (const auto& [name, doc] : f.doc["histograms"].items()) {
      try {
        histogram h = histogram::from_json(doc);
        auto it = merged.find(name);
        if (it == merged.end()) {
          merged.emplace(name, std::move(h));
        } else {
          it->second.merge(h);
        }
      } catch (const std::invalid_argument& e) {
        fail(f.path, "histograms." + name + ": " + e.what());
      }
    }
  }
  out["histograms"] = json::object();
  for (const auto& [name, h] : merged) out["histograms"][name] = h.to_json();
  for (const auto& b : blocks)
    out[b.block] = percentiles_json(merged.at(b.histogram), b.scale, b.p999);
  out["thresholds"] = json::array();
  return out;
}

}  // namespace gmsim
