// The time series: bucketing by completion time, coarsening, exact merge across
// workers, bounded memory; and the engine filling it consistently with run_stats.
#include "delivery/timeseries.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>

#include "delivery/engine.hpp"
#include "run/runner.hpp"
#include "test_support.hpp"

namespace gmsim {
namespace {

const request_outcome ok{outcome_kind::delivered, 200, failure_kind::none, {}};
const request_outcome no_content{outcome_kind::delivered, 204, failure_kind::none, {}};
const request_outcome too_large{outcome_kind::rejected, 413, failure_kind::none, {}};
const request_outcome server_error{outcome_kind::rejected, 503, failure_kind::none, {}};
const request_outcome timed_out{outcome_kind::failed, 0, failure_kind::timeout, {}};
const request_outcome refused{outcome_kind::failed, 0, failure_kind::connect_refused, {}};

std::int64_t total_requests(const timeseries& s) {
  std::int64_t n = 0;
  for (const auto& b : s.buckets()) n += b.requests;
  return n;
}

TEST(timeseries, requests_fall_in_the_bucket_of_their_completion_time) {
  timeseries s;
  s.record_request(0, ok, 10, 1000, 1500);
  s.record_request(999, too_large, 20, 2000, 2500);
  s.record_request(1000, timed_out, 30, 3000, 30'000'000);
  s.record_request(-5, no_content, 1, 100, 700);  // before the start: the first bucket
  s.record_unsent(3500, 40);
  ASSERT_EQ(s.bucket_ms(), 1000);
  ASSERT_EQ(s.buckets().size(), 4u);  // seconds 0 to 3; second 2 is empty

  const auto& first = s.buckets()[0];
  EXPECT_EQ(first.requests, 3);
  EXPECT_EQ(first.delivered, 2);
  EXPECT_EQ(first.rejected, 1);
  EXPECT_EQ(first.failed, 0);
  EXPECT_EQ(first.rows_delivered, 11);
  EXPECT_EQ(first.rows_lost, 20);
  EXPECT_EQ(first.bytes, 3100);
  EXPECT_EQ(first.status, (std::array<std::int64_t, 4>{2, 0, 1, 0}));
  ASSERT_TRUE(first.latency_us.has_value());
  EXPECT_EQ(first.latency_us->count(), 3);

  const auto& second = s.buckets()[1];
  EXPECT_EQ(second.requests, 1);
  EXPECT_EQ(second.failed, 1);
  EXPECT_EQ(second.rows_lost, 30);
  EXPECT_EQ(second.errors[static_cast<int>(failure_kind::timeout)], 1);
  EXPECT_EQ(second.status, (std::array<std::int64_t, 4>{0, 0, 0, 0}));

  EXPECT_EQ(s.buckets()[2].requests, 0);
  EXPECT_FALSE(s.buckets()[2].latency_us.has_value());  // nothing allocated for it
  EXPECT_EQ(s.buckets()[3].unsent, 1);
  EXPECT_EQ(s.buckets()[3].requests, 0);  // unsent pages never went on the wire
  // Unsent rows are apart from the rates' lost rows: they all land when the run stops.
  EXPECT_EQ(s.buckets()[3].rows_lost, 0);
  EXPECT_EQ(s.buckets()[3].rows_unsent, 40);
}

TEST(timeseries, json_has_one_object_per_bucket_and_null_percentiles_without_answers) {
  timeseries s;
  s.record_request(200, server_error, 5, 50, 2000);
  s.record_request(300, refused, 6, 60, 4000);
  s.record_unsent(2100, 7);
  const auto j = s.to_json();
  EXPECT_EQ(j["bucket_ms"], 1000);
  ASSERT_EQ(j["buckets"].size(), 3u);
  const auto& b = j["buckets"][0];
  EXPECT_EQ(b["t_ms"], 0);
  EXPECT_EQ(b["requests"], 2);
  EXPECT_EQ(b["rejected"], 1);
  EXPECT_EQ(b["failed"], 1);
  EXPECT_EQ(b["rows_lost"], 11);
  EXPECT_EQ(b["bytes"], 110);
  EXPECT_EQ(b["status"], (nlohmann::json{{"2xx", 0}, {"3xx", 0}, {"4xx", 0}, {"5xx", 1}}));
  EXPECT_EQ(b["errors"], (nlohmann::json{{"connect_refused", 1}}));
  // 1 significant digit: within 1/16, and never above the bucket's max.
  EXPECT_NEAR(b["p50_ms"].get<double>(), 2.0, 2.0 / 16);
  EXPECT_DOUBLE_EQ(b["p99_ms"].get<double>(), 4.0);
  EXPECT_TRUE(j["buckets"][1]["p50_ms"].is_null());
  EXPECT_EQ(j["buckets"][2]["t_ms"], 2000);
  EXPECT_EQ(j["buckets"][2]["unsent"], 1);
  EXPECT_TRUE(j["buckets"][2]["p99_ms"].is_null());
}

TEST(timeseries, outgrowing_the_buckets_merges_pairs_and_doubles_the_width) {
  timeseries s(4, 1000);
  for (int second = 0; second < 4; ++second) {
    for (int k = 0; k <= second; ++k)
      s.record_request(second * 1000 + 10, ok, 1, 1, 1000 * (second + 1));
  }
  ASSERT_EQ(s.buckets().size(), 4u);
  s.record_request(4500, too_large, 9, 1, 100);  // second 4: no room at 1 s
  EXPECT_EQ(s.bucket_ms(), 2000);
  ASSERT_EQ(s.buckets().size(), 3u);
  EXPECT_EQ(s.buckets()[0].requests, 1 + 2);
  EXPECT_EQ(s.buckets()[1].requests, 3 + 4);
  EXPECT_EQ(s.buckets()[2].requests, 1);
  EXPECT_EQ(s.buckets()[2].rows_lost, 9);
  EXPECT_EQ(s.buckets()[1].latency_us->count(), 7);
  EXPECT_EQ(s.buckets()[1].latency_us->max(), 4000);
  EXPECT_EQ(s.buckets()[1].latency_us->min(), 3000);

  s.record_request(20'000, ok, 1, 1, 1);  // far ahead: coarsens twice more, to 8 s
  EXPECT_EQ(s.bucket_ms(), 8000);
  ASSERT_EQ(s.buckets().size(), 3u);
  EXPECT_EQ(s.buckets()[0].requests, 11);  // everything of seconds 0..4
  EXPECT_EQ(total_requests(s), 12);
}

TEST(timeseries, a_six_hour_run_stays_within_1200_buckets) {
  const millis six_hours = 6 * 3'600'000;
  EXPECT_EQ(timeseries::bucket_ms_for(six_hours), 20'000);
  EXPECT_EQ(timeseries::bucket_ms_for(30'000), 1000);
  EXPECT_EQ(timeseries::bucket_ms_for(1'100'000), 1000);  // 18m20s still has 1 s buckets
  EXPECT_EQ(timeseries::bucket_ms_for(1'100'001), 2000);

  // The engine's sizing: a request every 50 ms for 6 h, and a 10-minute drain.
  timeseries sized(timeseries::default_max_buckets, timeseries::bucket_ms_for(six_hours));
  // Without the sizing (1 s to start): doubling alone.
  timeseries doubled;
  std::int64_t n = 0;
  for (millis t = 0; t < six_hours + 600'000; t += 50, ++n) {
    sized.record_request(t, ok, 1, 1, 1000 + t % 5000);
    doubled.record_request(t, ok, 1, 1, 1000 + t % 5000);
  }
  EXPECT_EQ(sized.bucket_ms(), 20'000);
  EXPECT_EQ(sized.buckets().size(), 1110u);
  EXPECT_EQ(doubled.bucket_ms(), 32'000);  // 1 s doubled five times
  EXPECT_LE(doubled.buckets().size(), timeseries::default_max_buckets);
  EXPECT_EQ(total_requests(sized), n);
  EXPECT_EQ(total_requests(doubled), n);
  // The memory: a bucket's latency histogram has a fixed number of counters.
  EXPECT_EQ(sized.buckets()[0].latency_us->counter_count(), 459u);
}

// Records the same requests into one series, and split over two "workers" that run to
// different lengths (so that one coarsens and the other does not): the merge is exact.
TEST(timeseries, merging_workers_equals_recording_everything_in_one) {
  std::mt19937_64 random(7);
  timeseries whole(40, 1000);
  timeseries first(40, 1000);
  timeseries second(40, 1000);
  const request_outcome outcomes[] = {ok, no_content, too_large, server_error, timed_out, refused};
  for (int i = 0; i < 3000; ++i) {
    const bool to_first = i % 3 != 0;
    // The first worker runs 100 s (coarsens to 4 s); the second 30 s (stays at 1 s).
    const millis t = static_cast<millis>(random() % (to_first ? 100'000 : 30'000));
    const auto& outcome = outcomes[random() % 6];
    const auto rows = static_cast<std::int64_t>(random() % 500);
    const auto latency = static_cast<std::int64_t>(random() % 2'000'000);
    whole.record_request(t, outcome, rows, rows * 100, latency);
    (to_first ? first : second).record_request(t, outcome, rows, rows * 100, latency);
    if (i % 97 == 0) {
      whole.record_unsent(t, rows);
      (to_first ? first : second).record_unsent(t, rows);
    }
  }
  ASSERT_EQ(first.bucket_ms(), 4000);
  ASSERT_EQ(second.bucket_ms(), 1000);
  ASSERT_EQ(whole.bucket_ms(), 4000);

  timeseries merged_a;  // as the runner does: a default series takes the first's width
  merged_a.merge(second);
  merged_a.merge(first);
  timeseries merged_b(40, 1000);
  merged_b.merge(first);
  merged_b.merge(second);
  EXPECT_EQ(merged_a.bucket_ms(), 4000);
  EXPECT_EQ(merged_a.to_json(), whole.to_json());
  EXPECT_EQ(merged_b.to_json(), whole.to_json());
  for (std::size_t i = 0; i < whole.buckets().size(); ++i) {
    const auto& w = whole.buckets()[i].latency_us;
    const auto& m = merged_a.buckets()[i].latency_us;
    ASSERT_EQ(w.has_value(), m.has_value());
    if (w) EXPECT_EQ(*w, *m);
  }
}

TEST(timeseries, widths_that_are_not_powers_of_two_apart_align_on_a_common_multiple) {
  timeseries a(100, 3000);
  timeseries b(100, 2000);
  a.record_request(5000, ok, 1, 1, 1);  // [3 s, 6 s)
  b.record_request(5000, ok, 2, 1, 1);  // [4 s, 6 s)
  b.record_request(6500, ok, 4, 1, 1);  // [6 s, 8 s)
  a.merge(b);
  EXPECT_EQ(a.bucket_ms(), 6000);
  ASSERT_EQ(a.buckets().size(), 2u);
  EXPECT_EQ(a.buckets()[0].rows_delivered, 3);
  EXPECT_EQ(a.buckets()[1].rows_delivered, 4);

  timeseries c(100, 3000);
  timeseries d(100, 7000);
  c.record_request(0, ok, 1, 1, 1);
  d.record_request(0, ok, 1, 1, 1);
  EXPECT_THROW(c.merge(d), std::invalid_argument);
  EXPECT_THROW(timeseries(1, 1000), std::invalid_argument);
  EXPECT_THROW(timeseries(10, 0), std::invalid_argument);
}

// The engine records every outcome by the time the request ended, and the series adds up
// to run_stats' totals.
TEST(timeseries, the_engine_fills_the_series_consistently_with_its_totals) {
  const profile p = testing::small_profile(2, 300'000, 3.0);
  scenario model(p);
  encoder body_encoder(model);
  simulated_clock time;
  testing::recording_sender sender(time);
  std::vector<std::uint32_t> all;
  for (std::uint32_t d = 0; d < model.deployments().size(); ++d) all.push_back(d);
  engine work(engine_setup{&model, &body_encoder, all, nullptr}, time, sender);
  sender.attach(work);
  int n = 0;
  sender.answer = [&](const testing::sent_request&) {
    ++n;
    if (n % 7 == 0) return too_large;
    if (n % 11 == 0) return timed_out;
    return ok;
  };
  // Run 200 s, then stop: what is still queued becomes unsent at 200 s.
  while (auto t = work.next_wakeup()) {
    if (*t > 200'000) break;
    time.set(*t);
    work.run_due();
  }
  time.set(200'000);
  work.stop();

  const run_stats& s = work.stats();
  const timeseries& series = s.over_time;
  EXPECT_EQ(series.bucket_ms(), 1000);
  timeseries_bucket sum;
  for (const auto& b : series.buckets()) sum.add(b);
  EXPECT_EQ(sum.requests, s.requests_attempted);
  EXPECT_EQ(sum.delivered, s.requests_delivered);
  EXPECT_EQ(sum.rejected, s.requests_rejected);
  EXPECT_EQ(sum.failed, s.requests_failed);
  EXPECT_EQ(sum.unsent, s.requests_unsent);
  EXPECT_EQ(sum.rows_delivered, s.rows_delivered);
  EXPECT_EQ(sum.rows_lost, s.rows_rejected + s.rows_failed);
  EXPECT_EQ(sum.rows_unsent, s.rows_unsent);
  EXPECT_EQ(sum.bytes, s.bytes_sent);
  EXPECT_EQ(sum.status[0], s.by_status.at(200));
  EXPECT_EQ(sum.status[2], s.by_status.at(413));
  EXPECT_EQ(sum.errors[static_cast<int>(failure_kind::timeout)],
            s.by_error[static_cast<int>(failure_kind::timeout)]);
  EXPECT_GT(s.requests_rejected, 0);
  EXPECT_GT(s.requests_unsent, 0);
  ASSERT_EQ(series.buckets().size(), 201u);  // up to the stop, at 200 s
  EXPECT_EQ(series.buckets().back().unsent, s.requests_unsent);
  // Each request is in the bucket of the second it was answered in (instantly, here).
  std::map<millis, std::int64_t> per_second;
  for (const auto& r : sender.sent) per_second[r.at / 1000] += 1;
  for (const auto& [second, count] : per_second) {
    EXPECT_EQ(series.buckets()[static_cast<std::size_t>(second)].requests, count) << second;
  }
}

TEST(timeseries, a_dry_run_over_several_workers_merges_to_the_same_series_as_one) {
  run_config config;
  config.settings = testing::small_profile(4, 1'500'000, 1.0);  // 25 min: 2 s buckets
  config.dry_run = true;
  config.workers = 1;
  const auto one = run(config);
  config.workers = 3;
  const auto three = run(config);
  EXPECT_EQ(one.stats.over_time.bucket_ms(), 2000);
  EXPECT_EQ(one.stats.over_time.to_json(), three.stats.over_time.to_json());
  EXPECT_EQ(total_requests(one.stats.over_time), one.stats.requests_attempted);
}

}  // namespace
}  // namespace gmsim
