// --metrics-listen, --metrics-push and --metrics-hold of `gmsim run` and `gmsim replay`:
// the run's numbers for Prometheus while it goes and at its end (docs/observability.md).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cli/options.hpp"  // metrics_options
#include "core/duration.hpp"
#include "net/endpoint_server.hpp"
#include "report/metrics.hpp"
#include "run/run_plan.hpp"

namespace gmsim::cli {

// The labels of gmsim_info for a run (or a replay's report config).
metrics_labels metrics_labels_of(const std::string& command, const run_config& config);

// Does nothing when no metrics option was given.
class metrics_publisher {
 public:
  metrics_publisher(metrics_options options, bool quiet);
  ~metrics_publisher();

  // Binds --metrics-listen and serves /metrics (zeros until the first watch). Throws
  // std::runtime_error("--metrics-listen: cannot listen on ...").
  void start();
  void set_labels(metrics_labels labels);
  // run_config::watch: each call renders the numbers a scrape gets until the next.
  run_watch watcher();
  // The run's final numbers: served from now on (gmsim_run_finished 1) and pushed to
  // --metrics-push. Returns what failed ("--metrics-push: URL: status 400 ..."), for
  // run_result::failed_outputs (exit 1).
  std::vector<std::string> finish(const run_counters& counts);
  // After the reports: with --metrics-hold, waits until /metrics was read once since
  // finish(), or the hold is over.
  void hold();

 private:
  void render(const run_counters& counts, std::int64_t queued_rows, std::int64_t in_flight,
              bool finished);

  metrics_options options_;
  bool quiet_;
  std::unique_ptr<endpoint_server> server_;
  std::mutex mutex_;
  std::condition_variable scraped_;
  metrics_labels labels_;
  std::string text_;
  bool final_ = false;
  bool watched_ = false;   // a tick has rendered the run's numbers
  int final_scrapes_ = 0;  // GETs of /metrics since finish()
};

}  // namespace gmsim::cli
