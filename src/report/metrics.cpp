#include "report/metrics.hpp"

#include <cstdio>

#include "core/exposition.hpp"
#include "delivery/outcome.hpp"
#include "profile/profile.hpp"

namespace gmsim {
namespace {

// The outcomes a request or row of the traffic ends in (auth probes apart).
constexpr outcome_kind outcomes[] = {outcome_kind::delivered, outcome_kind::rejected,
                                     outcome_kind::failed, outcome_kind::unacknowledged,
                                     outcome_kind::unsent};

// Every fifth coarse bucket's floor is a Prometheus bucket: four a decade (100, 178, 316,
// 562 of a unit, then 1,000...), 24 from 100 µs to 56 s (from 0.1 s to 15.6 h of lag).
constexpr int bucket_step = 5;

// A histogram of coarse buckets whose values are in units of `unit` seconds.
void histogram_family(exposition& e, const char* name, const char* help, const bucket_counts& b,
                      double unit) {
  e.family(name, "histogram", help);
  std::int64_t below = 0;
  const std::string bucket = std::string(name) + "_bucket";
  for (int i = 1; i < bucket_counts::size; ++i) {
    below += b[i - 1];  // the values below floor(i)
    if ((i - 1) % bucket_step == 0) {
      char le[40];
      std::snprintf(le, sizeof le, "%.6g",
                    static_cast<double>(run_counters::latency_bucket_floor_us(i)) * unit);
      e.sample(bucket, std::string("le=\"") + le + "\"", below);
    }
  }
  below += b[bucket_counts::size - 1];
  e.sample(bucket, "le=\"+Inf\"", below);
  e.sample(std::string(name) + "_sum", "", static_cast<double>(b.sum) * unit);
  e.sample(std::string(name) + "_count", "", below);
}

}  // namespace

std::string prometheus_text(const metrics_labels& labels, const metrics_view& view) {
  const run_counters& c = view.counts;
  exposition e;
  // A replay knows its labels only once its recording is read: until then, no gmsim_info
  // rather than one with empty labels that would stay a series of its own.
  if (!labels.command.empty()) {
    e.family("gmsim_info", "gauge",
             "The run: command, profile, seed, pacing scope, shard, target, gmsim version.");
    e.sample("gmsim_info",
             label("command", labels.command) + "," + label("profile", labels.profile) + "," +
                 label("seed", labels.seed) + "," + label("scope", labels.scope) + "," +
                 label("shard", labels.shard) + "," + label("target", labels.target) + "," +
                 label("version", GMSIM_VERSION),
             std::int64_t{1});
  }
  e.family("gmsim_run_finished", "gauge", "1 once the run has ended: every number is final.");
  e.sample("gmsim_run_finished", "", std::int64_t{view.finished ? 1 : 0});
  e.family("gmsim_run_duration_seconds", "gauge", "The profile's duration (scenario time).");
  e.sample("gmsim_run_duration_seconds", "", labels.duration_seconds);

  e.family("gmsim_requests_total", "counter",
           "Requests of the traffic by webhook type and outcome (delivered, rejected, failed, "
           "unacknowledged; unsent: still queued when the run stopped). Auth probes apart.");
  for (int t = 0; t < webhook_type_count; ++t) {
    for (const outcome_kind k : outcomes) {
      e.sample(
          "gmsim_requests_total",
          label("type", webhook_type_names[t]) + "," + label("outcome", to_string(k)),
          c.requests_by_type_outcome[static_cast<std::size_t>(t)][static_cast<std::size_t>(k)]);
    }
  }
  e.family("gmsim_rows_total", "counter",
           "Rows (after merging per identifier) by webhook type and outcome; lost = rejected + "
           "failed + unsent. Auth probes' rows apart.");
  for (int t = 0; t < webhook_type_count; ++t) {
    for (const outcome_kind k : outcomes) {
      e.sample("gmsim_rows_total",
               label("type", webhook_type_names[t]) + "," + label("outcome", to_string(k)),
               c.rows_by_type_outcome[static_cast<std::size_t>(t)][static_cast<std::size_t>(k)]);
    }
  }
  e.family("gmsim_rows_generated_total", "counter",
           "Rows generated, by webhook type (auth probes' included).");
  for (int t = 0; t < webhook_type_count; ++t) {
    e.sample("gmsim_rows_generated_total", label("type", webhook_type_names[t]),
             c.rows_by_type[static_cast<std::size_t>(t)]);
  }
  e.family("gmsim_responses_total", "counter", "Answers by HTTP status (000 included).");
  for (const auto& [status, n] : c.by_status) {
    char code[8];
    std::snprintf(code, sizeof code, "%03d", status);
    e.sample("gmsim_responses_total", label("status", code), n);
  }
  e.family("gmsim_request_errors_total", "counter",
           "Requests without an answer (failed, unacknowledged) by kind of error.");
  // Every kind, 0 included: a series that appears only with its first error would make
  // rate() and a dashboard's panel miss it.
  for (int k = 1; k < failure_kind_count; ++k) {
    e.sample("gmsim_request_errors_total", label("kind", to_string(static_cast<failure_kind>(k))),
             c.by_error[static_cast<std::size_t>(k)]);
  }
  e.counter(
      "gmsim_requests_dropped_total",
      "Pages dropped by gmsim's queue bound (delivery.max_queued_rows); their rows are unsent.",
      c.requests_dropped);
  e.counter("gmsim_rows_dropped_total", "Rows of the pages dropped by gmsim's queue bound.",
            c.rows_dropped);
  e.counter("gmsim_rows_spilled_total",
            "Rows whose page waited on disk (delivery.queue_memory_rows), whatever became of it.",
            c.rows_spilled);
  e.counter("gmsim_sent_bytes_total", "Body bytes of the requests attempted, auth probes included.",
            c.bytes_sent);
  e.counter("gmsim_auth_probes_total",
            "Requests sent without or with a wrong Authorization on purpose.", c.auth_probes);
  e.counter("gmsim_auth_probes_accepted_total",
            "Auth probes answered 2xx: the receiver accepted a request it should have refused.",
            c.auth_probes_accepted);
  e.counter("gmsim_auth_probe_rows_total", "Rows of the auth probes, whatever the answer.",
            c.auth_probe_rows);
  e.counter("gmsim_sessions_started_total", "Viewer sessions the scenario began.",
            c.sessions_started);
  e.counter("gmsim_events_generated_total", "Viewer events generated, before merging into rows.",
            c.events_generated);

  e.family("gmsim_requests_in_flight", "gauge", "Requests sent and not yet answered.");
  e.sample("gmsim_requests_in_flight", "", view.in_flight);
  e.family("gmsim_queued_rows", "gauge",
           "Rows waiting in gmsim's pacing queues (in memory and on disk).");
  e.sample("gmsim_queued_rows", "", view.queued_rows);

  histogram_family(e, "gmsim_request_latency_seconds",
                   "From a request's intended start (its page ready, the pacing rules met) to its "
                   "answer: corrected for coordinated omission. Attempted requests.",
                   c.latency_buckets, 1e-6);
  histogram_family(e, "gmsim_request_latency_uncorrected_seconds",
                   "From a request's actual start to its answer.", c.uncorrected_buckets, 1e-6);
  histogram_family(
      e, "gmsim_delivery_lag_seconds",
      "From a row's oldest event to the answer that delivered it, in scenario time; per "
      "delivered row (an open loop only).",
      c.lag_buckets, 1e-3);
  histogram_family(
      e, "gmsim_sender_lateness_seconds",
      "A request's actual start after the earliest moment the pacing rules allowed it: "
      "gmsim's own lateness.",
      c.start_delay_buckets, 1e-6);
  return e.take();
}

}  // namespace gmsim
