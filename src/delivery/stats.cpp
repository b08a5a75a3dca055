#include "delivery/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace gmsim {

run_stats::run_stats()
    : latency_us(3'600'000'000, 3),
      latency_uncorrected_us(3'600'000'000, 3),
      lag_ms(30LL * 86'400'000, 3),
      send_delay_us(3'600'000'000, 3),
      start_delay_us(3'600'000'000, 3),
      page_rows(1'000'000, 3),
      page_bytes(1LL << 34, 3) {}

namespace {

// The floors of the latency buckets: 0, then 100 µs x 10^(i/20).
const std::array<std::int64_t, run_counters::latency_bucket_count>& bucket_floors() {
  static const auto floors = [] {
    std::array<std::int64_t, run_counters::latency_bucket_count> out{};
    for (int i = 1; i < run_counters::latency_bucket_count; ++i) {
      out[i] = static_cast<std::int64_t>(std::llround(100 * std::pow(10.0, (i - 1) / 20.0)));
    }
    return out;
  }();
  return floors;
}

}  // namespace

int run_counters::latency_bucket(std::int64_t us) {
  const auto& floors = bucket_floors();
  return static_cast<int>(std::upper_bound(floors.begin() + 1, floors.end(), us) - floors.begin()) -
         1;
}

std::int64_t run_counters::latency_bucket_floor_us(int bucket) { return bucket_floors()[bucket]; }

void bucket_counts::record(std::int64_t value, std::int64_t times) {
  value = std::max<std::int64_t>(value, 0);
  counts[static_cast<std::size_t>(run_counters::latency_bucket(value))] += times;
  sum += value * times;
}

void bucket_counts::add(const bucket_counts& other) {
  for (std::size_t i = 0; i < counts.size(); ++i) counts[i] += other.counts[i];
  sum += other.sum;
}

void run_counters::add(const run_counters& o) {
  sessions_started += o.sessions_started;
  events_generated += o.events_generated;
  requests_attempted += o.requests_attempted;
  requests_delivered += o.requests_delivered;
  requests_rejected += o.requests_rejected;
  requests_failed += o.requests_failed;
  requests_unacknowledged += o.requests_unacknowledged;
  requests_unsent += o.requests_unsent;
  for (const auto& [status, n] : o.by_status) by_status[status] += n;
  for (std::size_t i = 0; i < by_error.size(); ++i) by_error[i] += o.by_error[i];
  for (std::size_t i = 0; i < requests_by_type.size(); ++i) {
    requests_by_type[i] += o.requests_by_type[i];
  }
  bytes_sent += o.bytes_sent;
  auth_probes += o.auth_probes;
  auth_probes_accepted += o.auth_probes_accepted;
  auth_probe_rows += o.auth_probe_rows;
  rows_generated += o.rows_generated;
  rows_delivered += o.rows_delivered;
  rows_rejected += o.rows_rejected;
  rows_failed += o.rows_failed;
  rows_unacknowledged += o.rows_unacknowledged;
  rows_unsent += o.rows_unsent;
  requests_dropped += o.requests_dropped;
  rows_dropped += o.rows_dropped;
  rows_spilled += o.rows_spilled;
  for (std::size_t i = 0; i < rows_by_type.size(); ++i) rows_by_type[i] += o.rows_by_type[i];
  latency_buckets.add(o.latency_buckets);
  uncorrected_buckets.add(o.uncorrected_buckets);
  lag_buckets.add(o.lag_buckets);
  start_delay_buckets.add(o.start_delay_buckets);
  for (std::size_t t = 0; t < rows_by_type_outcome.size(); ++t) {
    for (std::size_t k = 0; k < rows_by_type_outcome[t].size(); ++k) {
      rows_by_type_outcome[t][k] += o.rows_by_type_outcome[t][k];
      requests_by_type_outcome[t][k] += o.requests_by_type_outcome[t][k];
    }
  }
  for (const auto& [key, c] : o.causes) {
    cause& into = cause_for(key, c.example);
    into.requests += c.requests;
    into.rows += c.rows;
  }
}

run_counters::cause& run_counters::cause_for(const std::string& key, const std::string& example) {
  auto found = causes.find(key);
  if (found == causes.end()) {
    found = causes
                .try_emplace(causes.size() >= max_causes ? "other causes" : key,
                             cause{0, 0, example})
                .first;
  }
  return found->second;
}

void run_counters::count_unsent(webhook_type type, std::int64_t rows) {
  requests_unsent += 1;
  requests_by_type[static_cast<int>(type)] += 1;
  rows_unsent += rows;
  rows_by_type_outcome[static_cast<int>(type)][static_cast<int>(outcome_kind::unsent)] += rows;
  requests_by_type_outcome[static_cast<int>(type)][static_cast<int>(outcome_kind::unsent)] += 1;
}

void run_counters::count_cause(outcome_kind kind, const request_outcome& outcome,
                               std::int64_t rows) {
  // The key names the cause, not the instance: a status, or an error kind (each
  // timeout's detail is the same; a reset's names the step it happened in).
  const std::string key =
      kind == outcome_kind::rejected
          ? "status " + std::to_string(outcome.status)
          : std::string(to_string(kind)) + ": " + std::string(to_string(outcome.error));
  cause& c = cause_for(key, outcome.detail);
  c.requests += 1;
  c.rows += rows;
}

void run_stats::count_answer(const request_outcome& outcome, webhook_type type, std::int64_t rows,
                             std::int64_t bytes, std::int64_t latency, std::int64_t uncorrected) {
  requests_attempted += 1;
  bytes_sent += bytes;
  // Every answer by its status, 000 included (a status line that says 000 is an answer).
  if (outcome.kind == outcome_kind::delivered || outcome.kind == outcome_kind::rejected) {
    by_status[outcome.status] += 1;
  }
  latency_us.record(latency);
  latency_uncorrected_us.record(uncorrected);
  latency_buckets.record(latency);
  uncorrected_buckets.record(uncorrected);
  // A sender that could not even start counts as failed.
  const outcome_kind kind =
      outcome.kind == outcome_kind::unsent ? outcome_kind::failed : outcome.kind;
  rows_by_type_outcome[static_cast<int>(type)][static_cast<int>(kind)] += rows;
  requests_by_type_outcome[static_cast<int>(type)][static_cast<int>(kind)] += 1;
  switch (kind) {
    case outcome_kind::delivered:
      requests_delivered += 1;
      rows_delivered += rows;
      return;
    case outcome_kind::rejected:
      requests_rejected += 1;
      rows_rejected += rows;
      break;
    case outcome_kind::unacknowledged:
      requests_unacknowledged += 1;
      rows_unacknowledged += rows;
      by_error[static_cast<int>(outcome.error)] += 1;
      break;
    case outcome_kind::failed:
    case outcome_kind::unsent:
      requests_failed += 1;
      rows_failed += rows;
      by_error[static_cast<int>(outcome.error)] += 1;
      break;
  }
  count_cause(kind, outcome, rows);
}

void run_stats::count_probe(const request_outcome& outcome, std::int64_t rows, std::int64_t bytes) {
  auth_probes += 1;
  auth_probe_rows += rows;
  bytes_sent += bytes;
  if (outcome.kind == outcome_kind::delivered) auth_probes_accepted += 1;
}

void run_stats::merge(const run_stats& o) {
  add(o);
  latency_us.merge(o.latency_us);
  latency_uncorrected_us.merge(o.latency_uncorrected_us);
  lag_ms.merge(o.lag_ms);
  send_delay_us.merge(o.send_delay_us);
  start_delay_us.merge(o.start_delay_us);
  page_rows.merge(o.page_rows);
  page_bytes.merge(o.page_bytes);
  queue_peak_rows = std::max(queue_peak_rows, o.queue_peak_rows);
  spill_peak_bytes += o.spill_peak_bytes;
  if (spill_failure.empty()) spill_failure = o.spill_failure;
  in_flight_peak += o.in_flight_peak;
  last_answer_ms = std::max(last_answer_ms, o.last_answer_ms);
  over_time.merge(o.over_time);
}

void check_accounting(const run_counters& s, std::int64_t left, std::int64_t expected_requests) {
  const std::int64_t rows_out = s.rows_delivered + s.rows_rejected + s.rows_failed +
                                s.rows_unacknowledged + s.rows_unsent + s.auth_probe_rows;
  const std::int64_t answered =
      s.requests_delivered + s.requests_rejected + s.requests_failed + s.requests_unacknowledged;
  const std::int64_t pages =
      std::accumulate(s.requests_by_type.begin(), s.requests_by_type.end(), std::int64_t{0});
  const std::int64_t requests = s.requests_attempted + s.requests_unsent + s.auth_probes;
  if (rows_out == s.rows_generated && answered == s.requests_attempted && pages == requests &&
      left == 0 && (expected_requests < 0 || expected_requests == requests)) {
    return;
  }
  std::string line =
      "internal error: the run cannot account for every row: rows generated " +
      std::to_string(s.rows_generated) + ", delivered " + std::to_string(s.rows_delivered) +
      " + rejected " + std::to_string(s.rows_rejected) + " + failed " +
      std::to_string(s.rows_failed) + " + unacknowledged " + std::to_string(s.rows_unacknowledged) +
      " + unsent " + std::to_string(s.rows_unsent) + " + auth probes' " +
      std::to_string(s.auth_probe_rows) + " (" + std::to_string(s.rows_generated - rows_out) +
      " unaccounted); requests " + std::to_string(s.requests_attempted) + " attempted, " +
      std::to_string(answered) + " answered or failed, " + std::to_string(s.requests_unsent) +
      " unsent, " + std::to_string(s.auth_probes) + " auth probes, " + std::to_string(pages) +
      " pages";
  if (expected_requests >= 0) line += " of " + std::to_string(expected_requests) + " to send";
  if (left != 0) line += "; " + std::to_string(left) + " rows and events left waiting";
  throw accounting_error(line);
}

}  // namespace gmsim
