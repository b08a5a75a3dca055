#include "core/histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace gmsim {
namespace {

constexpr std::int64_t default_highest = 3'600'000'000;

struct percentile_case {
  double p;
  std::int64_t per_mille;  // p exactly, so the reference rank has no rounding at all
};
constexpr percentile_case percentiles[] = {{0, 0},    {1, 10},     {50, 500},  {90, 900},
                                           {99, 990}, {99.9, 999}, {100, 1000}};

// The order statistic HdrHistogram reports before bucketing: the value at rank
// ceil(p% of n), at least 1.
std::int64_t exact_percentile(const std::vector<std::int64_t>& sorted, std::int64_t per_mille) {
  const auto n = static_cast<std::int64_t>(sorted.size());
  const std::int64_t rank = std::max<std::int64_t>((per_mille * n + 999) / 1000, 1);
  return sorted[rank - 1];
}

struct data_set {
  std::string name;
  std::vector<std::int64_t> values;
};

std::vector<data_set> random_data_sets() {
  std::mt19937_64 rng(20240601);
  const auto make = [&](std::string name, std::size_t n, auto&& draw) {
    data_set set{std::move(name), {}};
    set.values.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
      set.values.push_back(std::clamp<std::int64_t>(draw(), 0, default_highest));
    return set;
  };
  std::uniform_int_distribution<std::int64_t> uniform(0, default_highest);
  std::uniform_real_distribution<double> log_uniform(0, std::log(double(default_highest)));
  std::exponential_distribution<double> exponential(1.0 / 50'000);  // 50 ms in µs
  std::lognormal_distribution<double> lognormal(std::log(20'000.0), 1.5);
  std::uniform_int_distribution<std::int64_t> small(0, 3000);
  std::bernoulli_distribution slow(0.02);
  std::normal_distribution<double> fast_mode(2'000, 300), slow_mode(5'000'000, 1'000'000);
  return {
      make("uniform", 20'000, [&] { return uniform(rng); }),
      make("log_uniform", 30'001, [&] { return std::llround(std::exp(log_uniform(rng))); }),
      make("exponential", 12'345, [&] { return std::llround(exponential(rng)); }),
      make("lognormal", 40'000, [&] { return std::llround(lognormal(rng)); }),
      make("small_integers", 999, [&] { return small(rng); }),
      make("bimodal", 25'000,
           [&] { return std::llround(slow(rng) ? slow_mode(rng) : fast_mode(rng)); }),
      make("single", 1, [&] { return uniform(rng); }),
      make("two", 2, [&] { return uniform(rng); }),
      make("constant", 777, [] { return std::int64_t{123'456'789}; }),
  };
}

histogram record_all(const std::vector<std::int64_t>& values,
                     std::int64_t highest = default_highest, int digits = 3) {
  histogram h(highest, digits);
  for (const auto v : values) h.record(v);
  return h;
}

void expect_percentiles_within(const histogram& h, std::vector<std::int64_t> values,
                               double relative_error) {
  std::sort(values.begin(), values.end());
  for (const auto& c : percentiles) {
    SCOPED_TRACE("p" + std::to_string(c.p));
    const std::int64_t exact = exact_percentile(values, c.per_mille);
    const std::int64_t got = h.percentile(c.p);
    // Reported as the top of the bucket, so never below the exact value.
    EXPECT_GE(got, exact);
    EXPECT_LE(double(got - exact), relative_error * double(exact)) << "exact " << exact;
  }
  EXPECT_EQ(h.percentile(100), values.back());
}

TEST(histogram, default_configuration_is_fixed_and_about_23k_counters) {
  const histogram h;
  EXPECT_EQ(h.highest(), default_highest);
  EXPECT_EQ(h.significant_digits(), 3);
  EXPECT_GE(h.counter_count(), 20'000u);
  EXPECT_LE(h.counter_count(), 25'000u);
}

// Counters are allocated as values reach them: a histogram of small values stays small
// (the time series keeps one per bucket), and how many a histogram has allocated changes
// nothing it reports, merges or writes (counters stop at the largest index recorded).
TEST(histogram, counters_are_allocated_up_to_the_largest_value_only) {
  histogram small;
  EXPECT_EQ(small.counters_allocated(), 0u);
  for (int v = 0; v < 1000; ++v) small.record(v);
  EXPECT_LE(small.counters_allocated(), 1'100u);  // the 1,000th value's counter, roughly
  EXPECT_EQ(small.percentile(100), 999);

  histogram large;
  large.record(default_highest);
  EXPECT_EQ(large.counters_allocated(), large.counter_count());
  large.reset();
  EXPECT_EQ(large, histogram()) << "reset drops the counters with the values";
  for (int v = 0; v < 1000; ++v) large.record(v);
  EXPECT_EQ(large, small);

  histogram merged;
  merged.merge(small);  // the larger takes the smaller's counters, and the other way
  merged.record(3'000'000);
  small.merge(merged);
  EXPECT_EQ(small.count(), 2001);
  EXPECT_EQ(small.percentile(50), 500);  // 0..999 twice, and one far value
  EXPECT_GE(small.percentile(100), 3'000'000);
  EXPECT_EQ(histogram::from_json(small.to_json()), small);
  EXPECT_NE(merged, small);

  // Growth is geometric but stops at the counters the histogram may use, and a count
  // below 1 records, and so allocates, nothing.
  histogram per_bucket(3'600'000'000, 1);  // the time series' own
  for (std::int64_t v :
       std::initializer_list<std::int64_t>{2'000, 10'000, 1'000'000, 3'600'000'000}) {
    per_bucket.record(v);
    EXPECT_LE(per_bucket.counters_allocated(), per_bucket.counter_count()) << v;
  }
  histogram nothing;
  nothing.record(default_highest, 0);
  EXPECT_EQ(nothing.counters_allocated(), 0u);
  EXPECT_EQ(nothing, histogram());
}

TEST(histogram, rejects_bad_configuration) {
  EXPECT_THROW(histogram(1, 3), std::invalid_argument);
  EXPECT_THROW(histogram(1000, 0), std::invalid_argument);
  EXPECT_THROW(histogram(1000, 6), std::invalid_argument);
  EXPECT_NO_THROW(histogram(std::numeric_limits<std::int64_t>::max(), 3));
}

TEST(histogram, reaches_int64_max_without_overflow) {
  constexpr std::int64_t top = std::numeric_limits<std::int64_t>::max();
  histogram h(top, 3);
  h.record(top);  // alone: a second value would take the sum past int64
  EXPECT_EQ(h.clamped(), 0);
  EXPECT_EQ(h.percentile(0), top);  // the last bucket's top, 2^52 wide, computed unsigned
  EXPECT_EQ(h.percentile(100), top);
  EXPECT_EQ(histogram::from_json(h.to_json()), h);
}

TEST(histogram, empty_reports_zeros) {
  const histogram h;
  EXPECT_EQ(h.count(), 0);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.mean(), 0.0);
  EXPECT_EQ(h.clamped(), 0);
  for (const auto& c : percentiles) EXPECT_EQ(h.percentile(c.p), 0);
}

TEST(histogram, percentiles_within_a_thousandth_of_exact_order_statistics) {
  for (const auto& set : random_data_sets()) {
    SCOPED_TRACE(set.name);
    expect_percentiles_within(record_all(set.values), set.values, 1e-3);
  }
}

TEST(histogram, relative_error_follows_significant_digits) {
  const auto sets = random_data_sets();
  for (int digits = 1; digits <= 5; ++digits) {
    SCOPED_TRACE("digits " + std::to_string(digits));
    const auto& values = sets[1].values;  // log-uniform: every bucket in play
    expect_percentiles_within(record_all(values, default_highest, digits), values,
                              std::pow(10.0, -digits));
  }
}

TEST(histogram, small_values_are_exact_at_every_rank) {
  // Below 2048 every value has its own counter, so the percentile is the order statistic
  // itself: this pins the rank definition, including ceil(99.9% of 1000) == 999.
  histogram h;
  std::vector<std::int64_t> values;
  for (std::int64_t n = 1; n <= 2000; ++n) {
    const std::int64_t v = (n * 7919) % 2048;  // a permutation of 0..2047
    h.record(v);
    values.insert(std::upper_bound(values.begin(), values.end(), v), v);
    for (const auto& c : percentiles)
      ASSERT_EQ(h.percentile(c.p), exact_percentile(values, c.per_mille))
          << "n " << n << " p" << c.p;
  }
}

TEST(histogram, matches_hdrhistogram_reference_case) {
  // HdrHistogram's own test data: 10,000 values of 1000 and one outlier.
  histogram h;
  h.record(1000, 10'000);
  h.record(100'000'000);
  EXPECT_EQ(h.percentile(30), 1000);
  EXPECT_EQ(h.percentile(99), 1000);
  EXPECT_EQ(h.percentile(99.99), 1000);
  EXPECT_EQ(h.percentile(99.999), 100'000'000);  // bucket top capped at the exact max
  EXPECT_EQ(h.percentile(100), 100'000'000);
  EXPECT_EQ(h.count(), 10'001);
  EXPECT_DOUBLE_EQ(h.mean(), (1000.0 * 10'000 + 100'000'000) / 10'001);
}

TEST(histogram, percentile_between_values_reports_bucket_top) {
  histogram h;
  h.record(1'000'000);  // bucket width 512 here
  h.record(2'000'000);
  const std::int64_t p50 = h.percentile(50);
  EXPECT_GE(p50, 1'000'000);
  EXPECT_LT(p50, 1'000'512);
  EXPECT_GT(p50, 1'000'000);  // the top of the bucket, not the value itself
  EXPECT_EQ(h.percentile(-5), h.percentile(0));
  EXPECT_EQ(h.percentile(250), 2'000'000);
  EXPECT_EQ(h.percentile(std::nan("")), h.percentile(0));
}

TEST(histogram, count_min_max_mean_are_exact) {
  for (const auto& set : random_data_sets()) {
    SCOPED_TRACE(set.name);
    const histogram h = record_all(set.values);
    std::int64_t sum = 0;
    for (const auto v : set.values) sum += v;
    EXPECT_EQ(h.count(), static_cast<std::int64_t>(set.values.size()));
    EXPECT_EQ(h.min(), *std::min_element(set.values.begin(), set.values.end()));
    EXPECT_EQ(h.max(), *std::max_element(set.values.begin(), set.values.end()));
    EXPECT_DOUBLE_EQ(h.mean(), double(sum) / double(set.values.size()));
    EXPECT_EQ(h.clamped(), 0);
  }
}

TEST(histogram, record_with_count_equals_repeated_records) {
  histogram once, repeated;
  once.record(4242, 5);
  once.record(17, 0);   // nothing
  once.record(99, -3);  // nothing
  for (int i = 0; i < 5; ++i) repeated.record(4242);
  EXPECT_EQ(once, repeated);
  EXPECT_EQ(once.min(), 4242);
}

TEST(histogram, clamps_out_of_range_values_and_counts_them) {
  histogram h(1'000'000, 3);
  h.record(500);
  h.record(-5);
  h.record(1'000'001, 3);
  h.record(std::numeric_limits<std::int64_t>::max());
  h.record(std::numeric_limits<std::int64_t>::min());
  h.record(1'000'000);  // highest itself is in range
  EXPECT_EQ(h.count(), 8);
  EXPECT_EQ(h.clamped(), 6);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 1'000'000);
  EXPECT_EQ(h.percentile(100), 1'000'000);
  EXPECT_EQ(h.percentile(0), 0);
  EXPECT_DOUBLE_EQ(h.mean(), (500.0 + 5 * 1'000'000) / 8);
}

TEST(histogram, merge_equals_recording_everything_into_one) {
  for (const auto& set : random_data_sets()) {
    SCOPED_TRACE(set.name);
    std::vector<histogram> workers(4);
    for (std::size_t i = 0; i < set.values.size(); ++i)
      workers[(i * 2654435761u) % workers.size()].record(set.values[i]);
    histogram merged;
    for (const auto& w : workers) merged.merge(w);
    EXPECT_EQ(merged, record_all(set.values));
  }
}

TEST(histogram, merge_with_empty_keeps_min_and_max) {
  histogram a, empty;
  a.record(300);
  a.record(-1);  // clamped
  a.record(70);
  histogram b = a;
  b.merge(empty);
  EXPECT_EQ(b, a);
  empty.merge(a);
  EXPECT_EQ(empty, a);
  EXPECT_EQ(empty.min(), 0);
  EXPECT_EQ(empty.max(), 300);
  EXPECT_EQ(empty.clamped(), 1);
}

TEST(histogram, merge_of_mismatched_configuration_throws) {
  histogram h;
  EXPECT_THROW(h.merge(histogram(1'000'000, 3)), std::invalid_argument);
  EXPECT_THROW(h.merge(histogram(default_highest, 2)), std::invalid_argument);
}

TEST(histogram, reset_returns_to_empty) {
  histogram h;
  h.record(5);
  h.record(-1);
  h.reset();
  EXPECT_EQ(h, histogram());
}

TEST(histogram, json_round_trip_is_exact_and_compact) {
  auto sets = random_data_sets();
  sets.push_back({"empty", {}});
  for (const auto& set : sets) {
    SCOPED_TRACE(set.name);
    std::vector<std::int64_t> values = set.values;
    values.push_back(-3);  // carries clamped() too
    const histogram h = record_all(values);
    ASSERT_EQ(h.clamped(), 1);
    const auto doc = nlohmann::json::parse(h.to_json().dump());
    EXPECT_EQ(histogram::from_json(doc), h);
    std::vector<std::int64_t> distinct = values;
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    EXPECT_LE(doc.at("counts").size(), distinct.size());
  }
  histogram clamped(1000, 2);
  clamped.record(5000, 2);
  EXPECT_EQ(histogram::from_json(clamped.to_json()), clamped);
}

TEST(histogram, from_json_names_what_is_wrong) {
  histogram h(1'000'000, 3);
  h.record(10);
  h.record(5000, 2);
  const nlohmann::json valid = h.to_json();
  ASSERT_EQ(histogram::from_json(valid), h);
  const std::vector<std::pair<std::function<void(nlohmann::json&)>, std::string>> cases = {
      {[](auto& d) { d = nlohmann::json::array(); }, "not an object"},
      {[](auto& d) { d.erase("highest"); }, "\"highest\""},
      {[](auto& d) { d["digits"] = "3"; }, "\"digits\""},
      {[](auto& d) { d["digits"] = 9; }, "\"digits\""},
      {[](auto& d) { d["highest"] = 1; }, "\"highest\""},
      {[](auto& d) { d["count"] = 1.5; }, "\"count\""},
      {[](auto& d) { d["count"] = 4; }, "\"count\""},
      {[](auto& d) { d["sum"] = std::uint64_t{1} << 63; }, "\"sum\""},
      {[](auto& d) { d["sum"] = 9; }, "\"sum\""},
      {[](auto& d) { d["min"] = 11; }, "\"min\""},
      {[](auto& d) { d["max"] = 6000; }, "\"max\""},
      {[](auto& d) { d["max"] = 2'000'000; }, "\"max\""},
      {[](auto& d) { d["min"] = -1; }, "\"min\""},
      {[](auto& d) { d["clamped"] = 4; }, "\"clamped\""},
      {[](auto& d) { d.erase("counts"); }, "\"counts\""},
      {[](auto& d) { d["counts"] = 3; }, "\"counts\""},
      {[](auto& d) { d["counts"][0] = {10}; }, "\"counts\""},
      {[](auto& d) { d["counts"][0][1] = 0; }, "\"counts\""},
      {[](auto& d) { d["counts"][0][0] = 1'000'000'000; }, "\"counts\" index"},
      {[](auto& d) { d["counts"][0][0] = -1; }, "\"counts\" index"},
      {[](auto& d) { std::swap(d["counts"][0], d["counts"][1]); }, "increasing"},
  };
  for (const auto& [mutate, expected] : cases) {
    nlohmann::json doc = valid;
    mutate(doc);
    SCOPED_TRACE(doc.dump());
    try {
      histogram::from_json(doc);
      ADD_FAILURE() << "accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  }
  // "clamped" is optional.
  nlohmann::json without = valid;
  without.erase("clamped");
  EXPECT_EQ(histogram::from_json(without), h);
}

}  // namespace
}  // namespace gmsim
