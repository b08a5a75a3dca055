// A log-linear histogram in the HdrHistogram manner: bounded memory, 3 significant
// digits, exact merge. Each worker owns its own; they are merged once at the end.
// Counters are allocated up to the largest value's, as values reach them: a histogram
// of small values stays small (the time series keeps one per bucket).
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace gmsim {

class histogram {
 public:
  // Records values in [0, highest]; larger values are clamped to highest and counted in
  // clamped(). significant_digits in [1, 5]. Throws std::invalid_argument when
  // highest < 2 or significant_digits is out of range.
  explicit histogram(std::int64_t highest = 3'600'000'000, int significant_digits = 3);

  // O(1); allocates only when the value's counter is past every earlier value's
  // (geometrically, never past counter_count()). Negative values count as 0 (and in clamped()). A count < 1 records
  // nothing. The sum, and so mean(), is exact while it fits in int64 (9.2e18).
  void record(std::int64_t value, std::int64_t count = 1);
  // Adds other's counts. Both must have the same highest and significant digits;
  // throws std::invalid_argument otherwise.
  void merge(const histogram& other);
  void reset();

  std::int64_t count() const { return total_; }
  std::int64_t min() const;  // 0 when empty; exact, not bucketed
  std::int64_t max() const;  // 0 when empty; exact, not bucketed
  double mean() const;       // 0 when empty
  // The smallest recorded value v such that at least p percent of values are <= v,
  // reported as the highest value equivalent to v's bucket (as HdrHistogram does),
  // capped at max(). p in [0, 100] (clamped to it); 0 when empty.
  std::int64_t percentile(double p) const;
  // Recorded values that were outside [0, highest] (counted with their counts).
  std::int64_t clamped() const { return clamped_; }

  std::int64_t highest() const { return highest_; }
  int significant_digits() const { return digits_; }
  // The number of counters it may use, fixed at construction (8 bytes each).
  std::size_t counter_count() const { return counter_limit_; }
  // The number of counters allocated so far: up to the largest value's, and never more
  // than counter_count() (capacity included).
  std::size_t counters_allocated() const { return counts_.capacity(); }

  // A compact, exact serialisation (for summaries that `gmsim merge` reads back):
  // {"highest":..,"digits":..,"min":..,"max":..,"count":..,"sum":..,"clamped":..,
  //  "counts":[[index,count],...]} with only non-zero counters, by increasing index.
  nlohmann::json to_json() const;
  // Throws std::invalid_argument naming what is wrong on a malformed or inconsistent
  // document. "clamped" may be absent (0).
  static histogram from_json(const nlohmann::json& doc);

  // Counters are allocated exactly up to the largest index recorded, so equal counts
  // have equal sizes.
  friend bool operator==(const histogram&, const histogram&) = default;

 private:
  std::size_t index_of(std::int64_t value) const;
  void grow(std::size_t size);  // counts_ to size, its capacity at most counter_limit_
  std::int64_t highest_equivalent(std::size_t index) const;
  std::int64_t lowest_equivalent(std::size_t index) const;

  std::int64_t highest_;
  int digits_;
  int sub_bucket_bits_;            // log2 of the sub-bucket count: 11 for 3 digits
  std::uint64_t sub_bucket_mask_;  // sub-bucket count - 1: values below it are bucket 0
  // Index (bucket << (sub_bucket_bits_ - 1)) + sub-bucket, as HdrHistogram lays it out: the
  // lower half of every bucket but the first repeats the previous one's range, so is unused.
  // Allocated up to the largest index recorded: the rest are 0.
  std::vector<std::int64_t> counts_;
  std::size_t counter_limit_ = 0;  // index_of(highest_) + 1
  std::int64_t total_ = 0;
  // Tracked as if no value were recorded yet; min() and max() report 0 when empty.
  std::int64_t min_ = std::numeric_limits<std::int64_t>::max();
  std::int64_t max_ = 0;
  std::int64_t sum_ = 0;
  std::int64_t clamped_ = 0;  // a subset of total_
};

}  // namespace gmsim
