// The run's time series: what happened in each bucket of scenario time (1 s for runs up
// to 18 minutes), by the time each request ended. Memory is bounded however long the
// run: at most max_buckets buckets. Longer runs start wider (bucket_ms_for: a 6-hour run
// has 20 s buckets), and a run that still outgrows its buckets merges adjacent pairs and
// doubles the width. Each worker owns one (in its run_stats); they merge exactly,
// aligned on the run's start.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <vector>

#include "core/duration.hpp"
#include "core/histogram.hpp"
#include "delivery/outcome.hpp"

namespace gmsim {

// One bucket: [index * bucket_ms, (index + 1) * bucket_ms) of scenario time.
struct timeseries_bucket {
  std::int64_t requests = 0;        // attempted: delivered + rejected + failed
  std::int64_t delivered = 0;       // answered 2xx
  std::int64_t rejected = 0;        // answered another status
  std::int64_t failed = 0;          // no status: see errors
  std::int64_t unsent = 0;          // pages still queued when the run stopped (not in requests)
  std::int64_t rows_delivered = 0;  // rows of delivered requests
  std::int64_t rows_lost = 0;       // rows of rejected and failed requests
  std::int64_t rows_unsent = 0;     // rows of the unsent pages (not a rate: apart)
  std::int64_t bytes = 0;           // body bytes of attempted requests
  std::array<std::int64_t, 4> status{};                   // attempted, by class: 2xx .. 5xx
  std::array<std::int64_t, failure_kind_count> errors{};  // failed, by kind
  // Corrected latency (from the intended send) of attempted requests, in µs. Allocated
  // with the first latency: buckets with none (unsent only, or empty) stay small.
  std::optional<histogram> latency_us;

  void add(const timeseries_bucket& other);
};

class timeseries {
 public:
  static constexpr std::size_t default_max_buckets = 1200;
  static constexpr millis default_bucket_ms = 1000;
  // Per bucket, latencies up to an hour in µs with 1 significant digit: at most 459
  // counters (3.7 kB, allocated up to the bucket's largest latency), so that 1,200
  // buckets stay under 5 MB a worker (2 digits would take 26 kB a bucket, 31 MB a worker). p50 and p99 per bucket are
  // then within 1/16 (6%) of the exact value; the run's percentiles come from run_stats'
  // 3-digit histograms.
  static constexpr std::int64_t latency_highest_us = 3'600'000'000;
  static constexpr int latency_digits = 1;

  // The starting width for a run of this duration: 1 s, or the duration / 1,100 rounded
  // up to whole seconds, so that the duration fills at most 1,100 buckets and 100 are left
  // for the drain after it.
  static millis bucket_ms_for(millis duration);

  // Throws std::invalid_argument when max_buckets < 2 or bucket_ms < 1.
  explicit timeseries(std::size_t max_buckets = default_max_buckets,
                      millis bucket_ms = default_bucket_ms);

  // A request ended at scenario time t (ms since the start; negative counts as 0).
  // O(1); allocates only when t reaches a bucket not reached before, or the bucket's
  // latency histogram its largest latency yet.
  void record_request(millis t, const request_outcome& outcome, std::int64_t rows,
                      std::int64_t bytes, std::int64_t latency_us);
  // A page never went out: the run stopped at t with it still queued.
  void record_unsent(millis t, std::int64_t rows);

  // Adds other's buckets, aligned on the run's start. An empty series takes other's
  // width; otherwise this one doubles its width until it is a multiple of other's, so
  // that each of other's buckets falls whole into one of this one's. Throws
  // std::invalid_argument when no doubling gets there (widths 3 s and 7 s).
  void merge(const timeseries& other);

  millis bucket_ms() const { return bucket_ms_; }
  std::size_t max_buckets() const { return max_buckets_; }
  // Bucket i covers [i * bucket_ms(), (i + 1) * bucket_ms()); up to the last one reached.
  const std::vector<timeseries_bucket>& buckets() const { return buckets_; }

  // {"bucket_ms": .., "buckets": [{"t_ms", "requests", "delivered", "rejected", "failed",
  //  "unsent", "rows_delivered", "rows_lost", "rows_unsent", "bytes", "status": {"2xx".."5xx"},
  //  "errors": {kind: n} (non-zero kinds), "p50_ms", "p99_ms" (null without latencies)}]}
  nlohmann::json to_json() const;

 private:
  timeseries_bucket& bucket_at(millis t);
  // Merges adjacent pairs and doubles the width.
  void coarsen();

  std::size_t max_buckets_;
  millis bucket_ms_;
  std::vector<timeseries_bucket> buckets_;
};

}  // namespace gmsim
