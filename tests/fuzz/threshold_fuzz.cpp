// `--threshold` expressions: parse_threshold() either returns a threshold on a canonical
// metric or throws threshold_error; a parsed threshold evaluates against any summary without
// throwing (here an empty one and one with the metric's fields in the wrong types).
#include <cmath>
#include <nlohmann/json.hpp>

#include "fuzz_target.hpp"
#include "report/thresholds.hpp"

namespace gmsim::fuzz {

int threshold_entry(const std::uint8_t* data, std::size_t size) {
  threshold t;
  try {
    t = parse_threshold(as_text(data, size));
  } catch (const threshold_error&) {
    return 0;
  }
  expect(canonical_metric(t.metric) == t.metric, "a parsed threshold's metric is canonical");
  expect(std::isfinite(t.value), "a threshold's value is finite");
  expect(!t.expr.empty(), "a threshold keeps its expression");
  for (const auto& summary :
       {nlohmann::json::object(),
        nlohmann::json{
            {"latency_ms", "x"}, {"requests", nullptr}, {"rows", nlohmann::json::array()}}}) {
    const threshold_result r = evaluate_threshold(t, summary);
    expect(r.value.has_value() || !r.ok, "a threshold without a value does not pass");
    describe(r);
  }
  return 0;
}

}  // namespace gmsim::fuzz

GMSIM_FUZZ_TARGET(threshold_entry)
