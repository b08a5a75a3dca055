// The receiver's settings and what it counts: shared by the receiver object and its
// sessions (net/receiver_session.hpp), which the receiver runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "core/duration.hpp"
#include "profile/profile.hpp"

namespace gmsim {

struct receiver_config {
  std::string listen = "127.0.0.1:8080";  // ADDR:PORT; port 0 picks a free one
  std::string auth_string;                // when not empty: 401 unless "Basic <it>"
  millis min_gap = 200;                   // a queue's requests closer than this are counted
  // What one queue is, as gmsim run's --pacing-scope: webhook (one per orgSlug),
  // deployment (orgSlug, depSlug), stream (orgSlug, depSlug, type), endpoint (all).
  pacing_scope gap_scope = pacing_scope::webhook;
  std::size_t max_body = 16u << 20;       // 413 beyond
  std::size_t max_header = 16u << 10;     // 431 beyond
  int max_connections = 4096;             // further connections are closed at once
  // Request bodies held at once, all connections together (a body's Content-Length, or
  // max_body while a chunked one is read): a request past it is answered 503 and its
  // connection closed. Without it, 60 clients holding 15 MiB bodies took 1.5 GB, and the
  // bound was max_connections x max_body = 64 GiB.
  std::size_t max_body_memory = 256u << 20;
  // A kept-alive connection that sends nothing of its next request this long is closed.
  millis idle_timeout = 60'000;
  // After an answer that closes the connection (413, 431, 400 on bad HTTP, Connection:
  // close), unread request bytes are drained this long, so that the client reads the answer
  // rather than a reset; stop() also waits at most this for the connections to close.
  millis linger_timeout = 1'000;
  // A request must arrive whole within this of its first byte, or it is answered 408 and the
  // connection closed; a new connection must send its first byte within this too (or it is
  // closed unanswered), and each answer must be taken by the client within this.
  millis request_timeout = 10'000;
  // Arrival jitter: a gap short of min_gap by at most this is not counted as a violation.
  millis gap_tolerance = 5;
  // Fault injection, applied to valid, authorised requests:
  int status = 200;       // the answer's status
  double fail_ratio = 0;  // this fraction answers fail_status instead
  int fail_status = 500;
  millis latency_min = 0;  // each answer waits uniformly in [min, max]
  millis latency_max = 0;  // (a max below min counts as min)
  double close_ratio = 0;  // this fraction drops the connection unanswered
  // A known capacity, in rows per second (0: none): valid requests are served one after
  // another, in arrival order, each taking rows / capacity seconds, as a single worker
  // writing to a store would. Below the capacity an answer waits its own service time;
  // past it the wait grows with the queue, so a load test can find the knee. Added to
  // the latency above.
  double capacity_rows_per_second = 0;
  // For the close_ratio, latency and fail_ratio draws. Each connection draws from its own
  // generator, seeded from (seed, the connection's accept order), three draws per valid request
  // in that order: the same seed and the same traffic give the same faults, whatever threads.
  std::uint64_t seed = 1;
  int threads = 1;
};

// What the receiver saw. Counts are since start.
struct receiver_counts {
  std::int64_t connections = 0;     // accepted (not those refused beyond max_connections)
  std::int64_t requests = 0;        // complete requests read, any method and path
  std::int64_t bytes = 0;           // body bytes of those requests
  std::int64_t valid = 0;           // POST bodies that passed auth and validate_body, whatever
                                    // the injected fault (a subset of requests)
  std::int64_t invalid = 0;         // POST bodies that failed validate_body: answered 400
                                    // (malformed HTTP is in by_status["400"] only)
  std::int64_t unauthorized = 0;    // answered 401
  std::int64_t too_large = 0;       // answered 413 (not in requests: never read whole)
  std::int64_t gap_violations = 0;  // valid requests of a queue (gap_scope) under
                                    // min_gap - gap_tolerance after the last
  std::int64_t dropped = 0;         // connections closed on purpose (close_ratio)
  std::int64_t busy = 0;            // answered 503: bodies in memory at max_body_memory
  std::int64_t unanswered_at_stop = 0;  // valid requests waiting out --latency (or the
                                        // capacity) when the receiver stopped: not answered,
                                        // their rows not accepted
  std::int64_t queues_tracked = 0;      // pacing queues whose last request is kept for the gap
                                        // check now (pruned once past min_gap: bounded)
  std::int64_t rows_accepted = 0;   // rows in valid bodies answered 2xx
  std::map<std::string, std::int64_t> rows_by_type;  // of rows_accepted
  std::map<int, std::int64_t> by_status;             // answers sent, by status
};

// The counts as `gmsim receive`'s /stats and summary give them.
nlohmann::json to_json(const receiver_counts& counts);
// The same for Prometheus (GET /metrics): docs/observability.md.
std::string prometheus_text(const receiver_counts& counts);

}  // namespace gmsim
