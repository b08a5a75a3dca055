#include "delivery/stats.hpp"

#include <algorithm>
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

void run_counters::add(const run_counters& o) {
  sessions_started += o.sessions_started;
  events_generated += o.events_generated;
  requests_attempted += o.requests_attempted;
  requests_delivered += o.requests_delivered;
  requests_rejected += o.requests_rejected;
  requests_failed += o.requests_failed;
  requests_unsent += o.requests_unsent;
  for (const auto& [status, n] : o.by_status) by_status[status] += n;
  for (std::size_t i = 0; i < by_error.size(); ++i) by_error[i] += o.by_error[i];
  for (std::size_t i = 0; i < requests_by_type.size(); ++i) {
    requests_by_type[i] += o.requests_by_type[i];
  }
  bytes_sent += o.bytes_sent;
  auth_probes += o.auth_probes;
  auth_probes_accepted += o.auth_probes_accepted;
  rows_generated += o.rows_generated;
  rows_delivered += o.rows_delivered;
  rows_rejected += o.rows_rejected;
  rows_failed += o.rows_failed;
  rows_unsent += o.rows_unsent;
  requests_dropped += o.requests_dropped;
  rows_dropped += o.rows_dropped;
  for (std::size_t i = 0; i < rows_by_type.size(); ++i) rows_by_type[i] += o.rows_by_type[i];
}

void run_counters::count_unsent(webhook_type type, std::int64_t rows) {
  requests_unsent += 1;
  requests_by_type[static_cast<int>(type)] += 1;
  rows_unsent += rows;
}

void run_stats::count_answer(const request_outcome& outcome, std::int64_t rows,
                             std::int64_t bytes, std::int64_t latency, std::int64_t uncorrected) {
  requests_attempted += 1;
  bytes_sent += bytes;
  if (outcome.status != 0) by_status[outcome.status] += 1;
  latency_us.record(latency);
  latency_uncorrected_us.record(uncorrected);
  switch (outcome.kind) {
    case outcome_kind::delivered:
      requests_delivered += 1;
      rows_delivered += rows;
      break;
    case outcome_kind::rejected:
      requests_rejected += 1;
      rows_rejected += rows;
      break;
    case outcome_kind::failed:
    case outcome_kind::unsent:  // a sender that could not even start counts as failed
      requests_failed += 1;
      rows_failed += rows;
      by_error[static_cast<int>(outcome.error)] += 1;
      break;
  }
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
  in_flight_peak += o.in_flight_peak;
  last_answer_ms = std::max(last_answer_ms, o.last_answer_ms);
  over_time.merge(o.over_time);
}

void check_accounting(const run_counters& s, std::int64_t left, std::int64_t expected_requests) {
  const std::int64_t rows_out = s.rows_delivered + s.rows_rejected + s.rows_failed + s.rows_unsent;
  const std::int64_t answered = s.requests_delivered + s.requests_rejected + s.requests_failed;
  const std::int64_t pages =
      std::accumulate(s.requests_by_type.begin(), s.requests_by_type.end(), std::int64_t{0});
  const std::int64_t requests = s.requests_attempted + s.requests_unsent;
  if (rows_out == s.rows_generated && answered == s.requests_attempted && pages == requests &&
      left == 0 && (expected_requests < 0 || expected_requests == requests)) {
    return;
  }
  std::string line = "internal error: the run cannot account for every row: rows generated " +
                     std::to_string(s.rows_generated) + ", delivered " +
                     std::to_string(s.rows_delivered) + " + rejected " +
                     std::to_string(s.rows_rejected) + " + failed " +
                     std::to_string(s.rows_failed) + " + unsent " + std::to_string(s.rows_unsent) +
                     " (" + std::to_string(s.rows_generated - rows_out) + " unaccounted); requests " +
                     std::to_string(s.requests_attempted) + " attempted, " +
                     std::to_string(answered) + " answered or failed, " +
                     std::to_string(s.requests_unsent) + " unsent, " + std::to_string(pages) +
                     " pages";
  if (expected_requests >= 0) line += " of " + std::to_string(expected_requests) + " to send";
  if (left != 0) line += "; " + std::to_string(left) + " rows and events left waiting";
  throw accounting_error(line);
}

}  // namespace gmsim
