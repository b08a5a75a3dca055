#include "core/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace gmsim {

namespace {

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();

// log2 of the smallest power of two >= 2 * 10^digits, as HdrHistogram sizes its
// sub-buckets: values below it are kept exactly, and every later bucket has at least
// half that many distinct steps, so the relative error stays under 10^-digits.
int sub_bucket_bits_for(int digits) {
  std::uint64_t largest_exact = 2;
  for (int i = 0; i < digits; ++i) largest_exact *= 10;
  return std::bit_width(largest_exact - 1);
}

// The sum is exact up to int64 max (2.5 billion values of an hour in µs); past it, it wraps
// rather than being undefined behaviour.
std::int64_t wrapping_add(std::int64_t sum, std::uint64_t addend) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(sum) + addend);
}

[[noreturn]] void malformed(const std::string& what) {
  throw std::invalid_argument("histogram json: " + what);
}

std::int64_t int_field(const nlohmann::json& doc, const char* key) {
  const auto it = doc.find(key);
  if (it == doc.end()) malformed(std::string("missing \"") + key + "\"");
  if (!it->is_number_integer()) malformed(std::string("\"") + key + "\" is not an integer");
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(int64_max))
    malformed(std::string("\"") + key + "\" is out of range");
  return it->get<std::int64_t>();
}

}  // namespace

histogram::histogram(std::int64_t highest, int significant_digits)
    : highest_(highest), digits_(significant_digits) {
  if (highest < 2) throw std::invalid_argument("histogram: highest must be at least 2");
  if (significant_digits < 1 || significant_digits > 5)
    throw std::invalid_argument("histogram: significant digits must be in [1, 5]");
  sub_bucket_bits_ = sub_bucket_bits_for(significant_digits);
  sub_bucket_mask_ = (std::uint64_t{1} << sub_bucket_bits_) - 1;
  // Up to exactly the counter of highest: the rest of its bucket could never fill.
  counter_limit_ = index_of(highest) + 1;
}

std::size_t histogram::index_of(std::int64_t value) const {
  const auto v = static_cast<std::uint64_t>(value);
  // Bucket b holds values whose highest bit is at sub_bucket_bits_ - 1 + b, in steps of 2^b;
  // or'ing in the mask puts every small value in bucket 0, in steps of 1.
  // (The mask's low bit is always set; spelling out | 1 lets the compiler drop bit_width's
  // zero check, a branch on the hot path.)
  const int bucket = std::bit_width(v | sub_bucket_mask_ | 1) - sub_bucket_bits_;
  const std::uint64_t sub_bucket = v >> bucket;
  return (static_cast<std::size_t>(bucket) << (sub_bucket_bits_ - 1)) + sub_bucket;
}

std::int64_t histogram::lowest_equivalent(std::size_t index) const {
  const int half_bits = sub_bucket_bits_ - 1;
  const int bucket = std::max(static_cast<int>(index >> half_bits) - 1, 0);
  const std::uint64_t sub_bucket = index - (static_cast<std::size_t>(bucket) << half_bits);
  return static_cast<std::int64_t>(sub_bucket << bucket);
}

std::int64_t histogram::highest_equivalent(std::size_t index) const {
  const int half_bits = sub_bucket_bits_ - 1;
  const int bucket = std::max(static_cast<int>(index >> half_bits) - 1, 0);
  // Unsigned, so the last bucket of a histogram reaching int64 max does not overflow.
  const auto lowest = static_cast<std::uint64_t>(lowest_equivalent(index));
  return static_cast<std::int64_t>(lowest + ((std::uint64_t{1} << bucket) - 1));
}

void histogram::grow(std::size_t size) {
  // Geometric, so that a run allocates a few times, but never past the limit: a vector's
  // own growth would double past it (up to twice the counters the histogram may use).
  if (size > counts_.capacity()) {
    counts_.reserve(std::min(counter_limit_, std::max(size, 2 * counts_.capacity())));
  }
  counts_.resize(size);
}

void histogram::record(std::int64_t value, std::int64_t count) {
  if (count < 1) return;
  const std::int64_t v = std::clamp<std::int64_t>(value, 0, highest_);
  clamped_ += (v != value) ? count : 0;
  const std::size_t index = index_of(v);
  if (index >= counts_.size()) [[unlikely]] grow(index + 1);
  counts_[index] += count;
  total_ += count;
  sum_ = wrapping_add(sum_, static_cast<std::uint64_t>(v) * static_cast<std::uint64_t>(count));
  min_ = std::min(min_, v);
  max_ = std::max(max_, v);
}

void histogram::merge(const histogram& other) {
  if (other.highest_ != highest_ || other.digits_ != digits_)
    throw std::invalid_argument(
        "histogram: cannot merge highest " + std::to_string(other.highest_) + " with " +
        std::to_string(other.digits_) + " digits into highest " + std::to_string(highest_) +
        " with " + std::to_string(digits_) + " digits");
  if (other.counts_.size() > counts_.size()) grow(other.counts_.size());
  for (std::size_t i = 0; i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
  sum_ = wrapping_add(sum_, static_cast<std::uint64_t>(other.sum_));
  clamped_ += other.clamped_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void histogram::reset() {
  counts_.clear();  // keeps the allocation
  total_ = 0;
  min_ = int64_max;
  max_ = 0;
  sum_ = 0;
  clamped_ = 0;
}

std::int64_t histogram::min() const { return total_ == 0 ? 0 : min_; }

std::int64_t histogram::max() const { return max_; }

double histogram::mean() const {
  return total_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(total_);
}

std::int64_t histogram::percentile(double p) const {
  if (total_ == 0) return 0;
  if (!(p > 0)) p = 0;  // also NaN
  if (p > 100) p = 100;
  // The rank is ceil(p% of the count). p / 100 * total can land an ulp above an integer
  // (99.9% of 1000 is 999.0000000000001), which would take one rank too many.
  const double fractional = p / 100.0 * static_cast<double>(total_);
  const double rank_d = std::ceil(fractional - fractional * (4 * DBL_EPSILON));
  const std::int64_t rank = std::max<std::int64_t>(static_cast<std::int64_t>(rank_d), 1);
  std::int64_t cumulative = 0;
  for (std::size_t i = index_of(min_); i < counts_.size(); ++i) {
    cumulative += counts_[i];
    if (cumulative >= rank) return std::min(highest_equivalent(i), max_);
  }
  return max_;  // unreachable while the counts add up to total_
}

nlohmann::json histogram::to_json() const {
  auto counts = nlohmann::json::array();
  for (std::size_t i = 0; i < counts_.size(); ++i)
    if (counts_[i] != 0) counts.push_back(nlohmann::json::array({i, counts_[i]}));
  return {{"highest", highest_}, {"digits", digits_},
          {"min", min()},        {"max", max_},
          {"count", total_},     {"sum", sum_},
          {"clamped", clamped_}, {"counts", std::move(counts)}};
}

histogram histogram::from_json(const nlohmann::json& doc) {
  if (!doc.is_object()) malformed("not an object");
  const std::int64_t highest = int_field(doc, "highest");
  const std::int64_t digits = int_field(doc, "digits");
  if (highest < 2) malformed("\"highest\" must be at least 2");
  if (digits < 1 || digits > 5) malformed("\"digits\" must be in [1, 5]");
  histogram h(highest, static_cast<int>(digits));

  const std::int64_t min = int_field(doc, "min");
  const std::int64_t max = int_field(doc, "max");
  const std::int64_t count = int_field(doc, "count");
  const std::int64_t sum = int_field(doc, "sum");
  const std::int64_t clamped = doc.contains("clamped") ? int_field(doc, "clamped") : 0;
  if (count < 0) malformed("\"count\" is negative");
  if (clamped < 0 || clamped > count) malformed("\"clamped\" is not in [0, count]");
  if (min < 0 || min > highest) malformed("\"min\" is not in [0, highest]");
  if (max < 0 || max > highest) malformed("\"max\" is not in [0, highest]");
  if (min > max) malformed("\"min\" is above \"max\"");

  const auto counts = doc.find("counts");
  if (counts == doc.end()) malformed("missing \"counts\"");
  if (!counts->is_array()) malformed("\"counts\" is not an array");
  std::int64_t total = 0;
  std::int64_t previous = -1;
  for (const auto& pair : *counts) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number_integer() ||
        !pair[1].is_number_integer())
      malformed("\"counts\" holds an entry that is not an [index, count] pair of integers");
    if (pair[0].is_number_unsigned() && pair[0].get<std::uint64_t>() >= h.counter_limit_)
      malformed("\"counts\" index " + pair[0].dump() + " is out of range");
    const std::int64_t index = pair[0].get<std::int64_t>();
    if (index < 0 || static_cast<std::size_t>(index) >= h.counter_limit_)
      malformed("\"counts\" index " + pair[0].dump() + " is out of range");
    if (index <= previous) malformed("\"counts\" indices are not strictly increasing");
    if (pair[1].is_number_unsigned() &&
        pair[1].get<std::uint64_t>() > static_cast<std::uint64_t>(int64_max - total))
      malformed("\"counts\" add up past int64");
    const std::int64_t n = pair[1].get<std::int64_t>();
    if (n <= 0)
      malformed("\"counts\" holds a count that is not positive at index " + pair[0].dump());
    if (n > int64_max - total) malformed("\"counts\" add up past int64");
    h.grow(static_cast<std::size_t>(index) + 1);  // indices increase
    h.counts_[static_cast<std::size_t>(index)] = n;
    total += n;
    previous = index;
  }
  if (total != count)
    malformed("\"counts\" add up to " + std::to_string(total) + ", not \"count\"");

  if (count == 0) {
    if (min != 0 || max != 0 || sum != 0)
      malformed("empty, but \"min\", \"max\" or \"sum\" is not 0");
    return h;
  }
  // min and max fall in the first and last non-empty counters, and the sum between
  // count * min and count * max (compared by division, which cannot overflow).
  const std::size_t first = static_cast<std::size_t>(counts->front()[0].get<std::int64_t>());
  const std::size_t last = static_cast<std::size_t>(previous);
  if (h.index_of(min) != first) malformed("\"min\" is not in the first non-empty counter");
  if (h.index_of(max) != last) malformed("\"max\" is not in the last non-empty counter");
  if (sum < 0 || sum / count < min || sum / count > max || (sum / count == max && sum % count != 0))
    malformed("\"sum\" is not between count * min and count * max");
  h.min_ = min;
  h.max_ = max;
  h.total_ = count;
  h.sum_ = sum;
  h.clamped_ = clamped;
  return h;
}

}  // namespace gmsim
