// The JUnit XML report, from a summary document alone (so that `gmsim merge` can write
// one too). Read by GitLab, Jenkins and GitHub actions: testsuites > testsuite > testcase,
// with a <failure> in each failed case.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/markup.hpp"
#include "report/thresholds.hpp"

namespace gmsim {
std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_markup_escaped(out, text, markup::xml);
  return out;
}

std::string junit_xml(const nlohmann::json& summary) {
  struct test_case {
    std::string classname, name, failure, type;  // failure empty: passed
  };
  std::vector<test_case> cases;
  if (summary.contains("thresholds") && summary["thresholds"].is_array()) {
    for (const auto& t : summary["thresholds"]) {
      test_case c{"gmsim.thresholds", t.value("expr", ""), "", "threshold"};
      if (!t.value("ok", false))
        c.failure = describe(threshold_result_of(t)) + ", threshold " + c.name;
      cases.push_back(std::move(c));
    }
  }
  auto rows = [&](const char* key) -> std::int64_t {
    return summary.contains("rows") ? summary["rows"].value(key, std::int64_t{0}) : 0;
  };
  auto n = [](std::int64_t v) { return std::to_string(v); };
  // Summaries of gmsim 0.2 and earlier have no unacknowledged, auth_probes or lost rows.
  std::int64_t generated = rows("generated"), delivered = rows("delivered"),
               rejected = rows("rejected"), failed = rows("failed"), unsent = rows("unsent"),
               unacknowledged = rows("unacknowledged"), probes = rows("auth_probes");
  const bool has_lost = summary.contains("rows") && summary["rows"].contains("lost");
  std::int64_t lost = has_lost ? rows("lost") : generated - delivered;
  cases.push_back({"gmsim.invariants", "no rows lost",
                   lost == 0 ? ""
                             : n(lost) + " rows lost: " + n(rejected) + " rejected, " + n(failed) +
                                   " failed, " + n(unsent) + " unsent",
                   "invariant"});
  std::int64_t sum = delivered + rejected + failed + unacknowledged + unsent + probes;
  cases.push_back({"gmsim.invariants", "accounting",
                   sum == generated
                       ? ""
                       : "rows.generated " + n(generated) + " != delivered " + n(delivered) +
                             " + rejected " + n(rejected) + " + failed " + n(failed) +
                             " + unacknowledged " + n(unacknowledged) + " + unsent " + n(unsent) +
                             " + auth probes " + n(probes) + " = " + n(sum),
                   "invariant"});
  // gmsim's own failure (run_result::internal_error): the figures are what was counted.
  if (summary.contains("internal_error") && summary["internal_error"].is_string()) {
    cases.push_back({"gmsim.invariants", "gmsim ran to its end",
                     "internal error: " + summary["internal_error"].get<std::string>(),
                     "internal_error"});
  }
  if (summary.contains("receiver") && summary["receiver"].is_object()) {
    const auto& rc = summary["receiver"];
    auto invalid = rc.value("invalid", std::int64_t{0});
    auto gaps = rc.value("gap_violations", std::int64_t{0});
    cases.push_back(
        {"gmsim.invariants", "no contract faults at the receiver",
         invalid == 0
             ? ""
             : n(invalid) + " bodies failed the GMetri contract at the receiver (answered 400)",
         "invariant"});
    cases.push_back(
        {"gmsim.invariants", "no pacing violations at the receiver",
         gaps == 0
             ? ""
             : n(gaps) + " requests came sooner than min_gap after their stream's previous one",
         "invariant"});
  }

  std::size_t failures =
      std::count_if(cases.begin(), cases.end(), [](const auto& c) { return !c.failure.empty(); });
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.3f", summary.value("wall_seconds", 0.0));
  std::string counts = " tests=\"" + std::to_string(cases.size()) + "\" failures=\"" +
                       std::to_string(failures) + "\" errors=\"0\" time=\"" + seconds + "\"";
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"gmsim\"" + counts + ">\n";
  out += "  <testsuite name=\"gmsim\"" + counts + " skipped=\"0\">\n    <properties>\n";
  for (const char* key : {"version", "profile", "seed", "shard", "dry_run", "target"}) {
    if (!summary.contains(key)) continue;
    const auto& v = summary[key];
    out += "      <property name=\"" + std::string(key) + "\" value=\"" +
           xml_escape(v.is_string() ? v.get<std::string>() : v.dump()) + "\"/>\n";
  }
  out += "    </properties>\n";
  for (const auto& c : cases) {
    out += "    <testcase classname=\"" + c.classname + "\" name=\"" + xml_escape(c.name) +
           "\" time=\"0\"";
    if (c.failure.empty()) {
      out += "/>\n";
      continue;
    }
    out += ">\n      <failure message=\"" + xml_escape(c.failure) + "\" type=\"" + c.type + "\">" +
           xml_escape(c.failure) + "</failure>\n    </testcase>\n";
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace gmsim
