// A run's numbers in the Prometheus text exposition format (version 0.0.4), for
// --metrics-listen (scraped while the run goes) and --metrics-push (its final values to a
// Pushgateway). The numbers are the run's own counters: at the end they equal the
// summary's. docs/observability.md is the reference of every metric.
#pragma once

#include <cstdint>
#include <string>

#include "delivery/stats.hpp"

namespace gmsim {

// What identifies the run: the labels of gmsim_info.
struct metrics_labels {
  std::string command;  // "run" or "replay"; "" : not known yet (no gmsim_info)
  std::string profile;
  std::string seed;
  std::string scope;            // the pacing scope
  std::string shard;            // "1/1"
  std::string target;           // as the reports show it (redacted unless --show-url)
  double duration_seconds = 0;  // the profile's (a replay's: its last recorded time)
};

// What is true at one moment of a run.
struct metrics_view {
  const run_counters& counts;    // so far (merged over the workers)
  std::int64_t queued_rows = 0;  // waiting in gmsim's pacing queues now
  std::int64_t in_flight = 0;    // requests sent and not answered now
  bool finished = false;         // the run has ended: these are its final numbers
};

// The whole exposition: HELP and TYPE lines, then the samples, one family at a time.
std::string prometheus_text(const metrics_labels& labels, const metrics_view& view);

}  // namespace gmsim
