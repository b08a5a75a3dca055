#include "gmsim/stats.hpp"

namespace gmsim {

run_stats::run_stats()
    : latency_us(3'600'000'000, 3),
      latency_uncorrected_us(3'600'000'000, 3),
      lag_ms(30LL * 86'400'000, 3),
      send_delay_us(3'600'000'000, 3),
      start_delay_us(3'600'000'000, 3),
      page_rows(1'000'000, 3),
      page_bytes(1LL << 34, 3) {}

void run_stats::merge(const run_stats& o) {
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
  for (std::size_t i = 0; i < rows_by_type.size(); ++i) rows_by_type[i] += o.rows_by_type[i];
  latency_us.merge(o.latency_us);
  latency_uncorrected_us.merge(o.latency_uncorrected_us);
  lag_ms.merge(o.lag_ms);
  send_delay_us.merge(o.send_delay_us);
  start_delay_us.merge(o.start_delay_us);
  page_rows.merge(o.page_rows);
  page_bytes.merge(o.page_bytes);
  over_time.merge(o.over_time);
}

}  // namespace gmsim
