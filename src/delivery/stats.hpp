// What a run did: counters and histograms. Each worker owns one run_stats and nothing
// else touches it; the runner merges them once at the end (and for progress).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

#include "core/histogram.hpp"
#include "delivery/outcome.hpp"
#include "delivery/timeseries.hpp"
#include "profile/profile.hpp"

namespace gmsim {

// The counts of a run: plain numbers, added up across workers by one function. A live
// worker publishes them for progress and --abort-on-fail while it runs; run_stats adds
// the histograms.
struct run_counters {
  std::int64_t sessions_started = 0;  // sessions the scenario began
  std::int64_t events_generated = 0;  // viewer events, before merging into rows

  // Requests. attempted = delivered + rejected + failed: those that went on the wire
  // (a connect that failed counts: it was tried). unsent pages never went.
  std::int64_t requests_attempted = 0;
  std::int64_t requests_delivered = 0;  // answered 2xx
  std::int64_t requests_rejected = 0;   // answered another status
  std::int64_t requests_failed = 0;     // no answer: see by_error
  std::int64_t requests_unsent = 0;     // pages still queued when the run stopped
  std::map<int, std::int64_t> by_status;                  // attempted requests by status
  std::array<std::int64_t, failure_kind_count> by_error{};  // failed requests by kind
  std::array<std::int64_t, webhook_type_count> requests_by_type{};  // pages, all outcomes
  std::int64_t bytes_sent = 0;  // body bytes of attempted requests
  // Attempted requests sent without or with a wrong Authorization on purpose (auth edge
  // cases), and those of them answered 2xx: a receiver that accepts them is insecure.
  std::int64_t auth_probes = 0;
  std::int64_t auth_probes_accepted = 0;

  // Rows (after merging per identifier). generated = delivered + rejected + failed + unsent.
  std::int64_t rows_generated = 0;
  std::int64_t rows_delivered = 0;
  std::int64_t rows_rejected = 0;
  std::int64_t rows_failed = 0;
  std::int64_t rows_unsent = 0;
  // Of the unsent: pages dropped by gmsim's queue bound (delivery.max_queued_rows).
  std::int64_t requests_dropped = 0;
  std::int64_t rows_dropped = 0;
  std::array<std::int64_t, webhook_type_count> rows_by_type{};  // generated, by type

  void add(const run_counters& other);
  // A page that never went out: the run stopped first.
  void count_unsent(webhook_type type, std::int64_t rows);
};

// What a run did: its counts and its histograms.
struct run_stats : run_counters {
  run_stats();

  // Real time, in microseconds: from the intended send time (coordinated omission
  // corrected) and from the actual send, to the answer. Attempted requests only.
  histogram latency_us;
  histogram latency_uncorrected_us;
  // Scenario time, in ms: from a row's oldest event to the answer that delivered it.
  histogram lag_ms;
  // Actual send minus intended send, in real microseconds. The intended times keep the
  // cadence of the schedule, and a stream's gap counts from its actual previous start,
  // so in backlog a stream's delay only grows: this is how far behind schedule it fell.
  histogram send_delay_us;
  // Actual send minus the earliest moment the pacing rules allowed it (the page ready,
  // the gap since the stream's actual previous start over, a request slot free): the
  // sender's own lateness, request by request. Large values mean gmsim itself, not the
  // receiver, was the bottleneck.
  histogram start_delay_us;
  histogram page_rows;
  histogram page_bytes;
  // The most rows that waited in one pacing queue at once, and the most requests in
  // flight at once in one worker (summed over workers when merged: an upper bound of
  // the run's concurrency, exact with one worker).
  std::int64_t queue_peak_rows = 0;
  std::int64_t in_flight_peak = 0;
  // When the last attempted request ended, in scenario ms since the start: the duration
  // plus the final flushes and any backlog.
  millis last_answer_ms = 0;
  // The same outcomes per bucket of scenario time (by when each request ended), for the
  // charts; the engine sizes its buckets for the run's duration.
  timeseries over_time;

  // A request's end (an answer, or none), counted: the one rule of the engine and the
  // replay. rows and bytes: the page's; latency_us from the intended start (coordinated
  // omission corrected), uncorrected_us from the actual one.
  void count_answer(const request_outcome& outcome, std::int64_t rows, std::int64_t bytes,
                    std::int64_t latency_us, std::int64_t uncorrected_us);
  void merge(const run_stats& other);
};

// gmsim lost track of a row or a request: its own failure (exit 1), never the receiver's.
class accounting_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Every run ends here (dry, live, replay): each row generated was delivered, rejected,
// failed or unsent, each request attempted once or unsent, each attempted one has an
// outcome, and nothing is left waiting (`left`: rows and events still held by engines
// that ended, which no count covers). Throws accounting_error with one line naming the
// counts when any of it does not hold. `expected_requests`, when not negative, is how
// many requests the run had to account for (a replay: the recording's lines).
void check_accounting(const run_counters& s, std::int64_t left = 0,
                      std::int64_t expected_requests = -1);

}  // namespace gmsim
