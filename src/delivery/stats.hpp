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

// Coarse buckets that add up, so that two snapshots subtract (a windowed --abort-on-fail)
// and a Prometheus histogram reads them: bucket i holds [floor(i), floor(i + 1)) in the
// values' unit, 20 buckets a decade from 100 (12% wide), below 100 in the first and past
// 10^8 in the last (run_counters::latency_bucket_floor_us gives the floors).
struct bucket_counts {
  static constexpr int size = 121;
  std::array<std::int64_t, size> counts{};
  std::int64_t sum = 0;  // of the values recorded (negative ones as 0)

  void record(std::int64_t value, std::int64_t times = 1);
  void add(const bucket_counts& other);
  std::int64_t operator[](int bucket) const { return counts[static_cast<std::size_t>(bucket)]; }
};

// The counts of a run: plain numbers, added up across workers by one function. A live
// worker publishes them for progress and --abort-on-fail while it runs; run_stats adds
// the histograms.
struct run_counters {
  std::int64_t sessions_started = 0;  // sessions the scenario began
  std::int64_t events_generated = 0;  // viewer events, before merging into rows

  // Requests of the traffic (auth probes are apart, below). attempted = delivered +
  // rejected + failed + unacknowledged: those that went on the wire (a connect that failed
  // counts: it was tried). unsent pages never went.
  std::int64_t requests_attempted = 0;
  std::int64_t requests_delivered = 0;       // answered 2xx
  std::int64_t requests_rejected = 0;        // answered another status
  std::int64_t requests_failed = 0;          // no answer, body not known to have arrived
  std::int64_t requests_unacknowledged = 0;  // body written whole, then no answer
  std::int64_t requests_unsent = 0;          // pages still queued when the run stopped
  std::map<int, std::int64_t> by_status;     // attempted requests by status
  // Requests without an answer (failed and unacknowledged) by kind.
  std::array<std::int64_t, failure_kind_count> by_error{};
  std::array<std::int64_t, webhook_type_count> requests_by_type{};  // pages, all outcomes
  std::int64_t bytes_sent = 0;  // body bytes of attempted requests and probes
  // Requests sent without or with a wrong Authorization on purpose (auth edge cases), and
  // those of them answered 2xx: a receiver that accepts them is insecure. Their rows are
  // counted apart from the traffic's, in auth_probe_rows, whatever the answer.
  std::int64_t auth_probes = 0;
  std::int64_t auth_probes_accepted = 0;
  std::int64_t auth_probe_rows = 0;

  // Rows (after merging per identifier). generated = delivered + rejected + failed +
  // unacknowledged + unsent + auth_probe_rows; lost = rejected + failed + unsent (rows
  // known not to have been accepted).
  std::int64_t rows_generated = 0;
  std::int64_t rows_delivered = 0;
  std::int64_t rows_rejected = 0;
  std::int64_t rows_failed = 0;
  std::int64_t rows_unacknowledged = 0;
  std::int64_t rows_unsent = 0;
  // Of the unsent: pages dropped by gmsim's queue bound (delivery.max_queued_rows).
  std::int64_t requests_dropped = 0;
  std::int64_t rows_dropped = 0;
  // Rows whose page waited on disk (delivery.queue_memory_rows), whatever became of it.
  std::int64_t rows_spilled = 0;
  std::array<std::int64_t, webhook_type_count> rows_by_type{};  // generated, by type
  // Rows by type and outcome (outcome_kind's order; auth probes' rows not included).
  std::array<std::array<std::int64_t, outcome_kind_count>, webhook_type_count>
      rows_by_type_outcome{};
  // Requests of the traffic by type and outcome, the same way (a sender that could not
  // start is failed).
  std::array<std::array<std::int64_t, outcome_kind_count>, webhook_type_count>
      requests_by_type_outcome{};

  // Why requests did not deliver: one entry per distinct cause ("status 500", "timeout"),
  // with how many and the first one's detail as an example. At most max_causes; the
  // rest are counted under "other causes".
  struct cause {
    std::int64_t requests = 0;
    std::int64_t rows = 0;
    std::string example;
  };
  static constexpr std::size_t max_causes = 32;
  std::map<std::string, cause> causes;

  // The distributions in coarse buckets that add up, as run_stats' histograms record them:
  // a windowed --abort-on-fail reads the percentiles of the last seconds from the
  // difference of two snapshots, and --metrics-listen shows them as Prometheus histograms.
  static constexpr int latency_bucket_count = bucket_counts::size;
  bucket_counts latency_buckets;      // µs, coordinated omission corrected
  bucket_counts uncorrected_buckets;  // µs, from the actual start
  bucket_counts lag_buckets;          // scenario ms, per delivered row
  bucket_counts start_delay_buckets;  // µs, the sender's lateness
  static int latency_bucket(std::int64_t us);
  static std::int64_t latency_bucket_floor_us(int bucket);

  std::int64_t rows_lost() const { return rows_rejected + rows_failed + rows_unsent; }
  void add(const run_counters& other);
  // A page that never went out: the run stopped first.
  void count_unsent(webhook_type type, std::int64_t rows);
  // A cause of a request that did not deliver: kind is its outcome as counted (a sender
  // that could not start is failed).
  void count_cause(outcome_kind kind, const request_outcome& outcome, std::int64_t rows);
  // The entry of key, made with example when new ("other causes" past max_causes).
  cause& cause_for(const std::string& key, const std::string& example);
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
  // The most bytes of queued pages on disk at once (per worker, summed over workers), and
  // why pages could not go there ("" : they could, or none had to): they then stayed in
  // memory, nothing lost.
  std::int64_t spill_peak_bytes = 0;
  std::string spill_failure;
  // When the last attempted request ended, in scenario ms since the start: the duration
  // plus the final flushes and any backlog.
  millis last_answer_ms = 0;
  // The same outcomes per bucket of scenario time (by when each request ended), for the
  // charts; the engine sizes its buckets for the run's duration.
  timeseries over_time;

  // A request's end (an answer, or none), counted: the one rule of the engine and the
  // replay. rows and bytes: the page's; latency_us from the intended start (coordinated
  // omission corrected), uncorrected_us from the actual one.
  void count_answer(const request_outcome& outcome, webhook_type type, std::int64_t rows,
                    std::int64_t bytes, std::int64_t latency_us, std::int64_t uncorrected_us);
  // A delivered row's lag (scenario ms) and a request's start delay (real µs), in their
  // histograms and coarse buckets both.
  void record_lag(std::int64_t ms) {
    lag_ms.record(ms);
    lag_buckets.record(ms);
  }
  void record_start_delay(std::int64_t us) {
    start_delay_us.record(us);
    start_delay_buckets.record(us);
  }
  // An auth probe's end: counted apart from the traffic (auth_probes), and its rows in
  // auth_probe_rows whatever the answer.
  void count_probe(const request_outcome& outcome, std::int64_t rows, std::int64_t bytes);
  void merge(const run_stats& other);
};

// gmsim lost track of a row or a request: its own failure (exit 1), never the receiver's.
class accounting_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Every run ends here (dry, live, replay): each row generated was delivered, rejected,
// failed, unacknowledged, unsent or in an auth probe, each request attempted once, a
// probe or unsent, each attempted one has an
// outcome, and nothing is left waiting (`left`: rows and events still held by engines
// that ended, which no count covers). Throws accounting_error with one line naming the
// counts when any of it does not hold. `expected_requests`, when not negative, is how
// many requests the run had to account for (a replay: the recording's lines).
void check_accounting(const run_counters& s, std::int64_t left = 0,
                      std::int64_t expected_requests = -1);

}  // namespace gmsim
