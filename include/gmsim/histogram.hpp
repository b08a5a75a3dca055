// A log-linear histogram in the HdrHistogram manner: fixed memory, 3 significant
// digits, exact merge. Each worker owns its own; they are merged once at the end.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace gmsim {

class histogram {
 public:
  // Records values in [0, highest]; larger values are clamped to highest and counted in
  // clamped(). significant_digits in [1, 5].
  explicit histogram(std::int64_t highest = 3'600'000'000, int significant_digits = 3);

  void record(std::int64_t value, std::int64_t count = 1);
  // Adds other's counts. Both must have the same highest and significant digits;
  // throws std::invalid_argument otherwise.
  void merge(const histogram& other);
  void reset();

  std::int64_t count() const { return total_; }
  std::int64_t min() const;  // 0 when empty
  std::int64_t max() const;  // 0 when empty; exact, not bucketed
  double mean() const;
  // The smallest recorded value v such that at least p percent of values are <= v,
  // reported as the highest value equivalent to v's bucket (as HdrHistogram does),
  // capped at max(). p in [0, 100]; 0 when empty.
  std::int64_t percentile(double p) const;
  std::int64_t clamped() const { return clamped_; }

  // A compact, exact serialisation (for summaries that `gmsim merge` reads back):
  // {"highest":..,"digits":..,"min":..,"max":..,"count":..,"sum":..,"counts":[[index,count],...]}
  nlohmann::json to_json() const;
  // Throws std::invalid_argument on a malformed document.
  static histogram from_json(const nlohmann::json& doc);

 private:
  std::size_t index_of(std::int64_t value) const;
  std::int64_t highest_equivalent(std::size_t index) const;
  std::int64_t lowest_equivalent(std::size_t index) const;

  std::int64_t highest_;
  int digits_;
  int sub_bucket_bits_;  // log2 of the sub-bucket count
  std::vector<std::int64_t> counts_;
  std::int64_t total_ = 0;
  std::int64_t min_ = 0;
  std::int64_t max_ = 0;
  double sum_ = 0;
  std::int64_t clamped_ = 0;
};

}  // namespace gmsim
