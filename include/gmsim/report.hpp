// Reports of a run: the end summary on the console and the summary JSON (a contract,
// documented in docs/reports.md).
#pragma once

#include <cstdio>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "gmsim/runner.hpp"

namespace gmsim {

// The summary document: DESIGN.md's contract fields and more.
nlohmann::json summary_json(const run_config& config, const run_result& result);

// A percentile block of the summary from h, values times scale: p50, p90, p99, p999 (when
// with_p999), max, mean (rounded to 3 decimals) and count. `gmsim merge` recomputes the
// blocks of merged histograms with it, so that they match an unsharded run's exactly.
nlohmann::json percentiles_json(const histogram& h, double scale, bool with_p999);

// The end summary, for people: delivery by outcome and type, lag, latency, losses.
std::string summary_text(const run_config& config, const run_result& result);

// Writes text to path, or throws std::runtime_error naming the path and the reason.
void write_file(const std::string& path, const std::string& text);

// "1.23ms", "4.5s", "2m3s": a latency or lag for people.
std::string format_ms(double ms);

}  // namespace gmsim
