// The validating receiver: `gmsim receive`, and the embedded target of `gmsim run`.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "gmsim/duration.hpp"

namespace gmsim {

struct receiver_config {
  std::string listen = "127.0.0.1:8080";  // ADDR:PORT; port 0 picks a free one
  std::string auth_string;                // when not empty: 401 unless "Basic <it>"
  millis min_gap = 200;                   // a stream's requests closer than this are counted
  std::size_t max_body = 16u << 20;       // 413 beyond
  std::size_t max_header = 16u << 10;     // 431 beyond
  int max_connections = 4096;             // further connections are closed at once
  millis idle_timeout = 60'000;           // a connection idle this long is closed
  // Fault injection, applied to valid, authorised requests:
  int status = 200;                       // the answer's status
  double fail_ratio = 0;                  // this fraction answers fail_status instead
  int fail_status = 500;
  millis latency_min = 0;                 // each answer waits uniformly in [min, max]
  millis latency_max = 0;
  double close_ratio = 0;                 // this fraction drops the connection unanswered
  std::uint64_t seed = 1;                 // for fail_ratio, latency and close_ratio draws
  int threads = 1;
};

// What the receiver saw. Counts are since start.
struct receiver_counts {
  std::int64_t connections = 0;      // accepted
  std::int64_t requests = 0;         // complete requests read
  std::int64_t bytes = 0;            // request body bytes read
  std::int64_t valid = 0;            // bodies that passed validate_body (a subset of requests)
  std::int64_t invalid = 0;          // answered 400
  std::int64_t unauthorized = 0;     // answered 401
  std::int64_t too_large = 0;        // answered 413
  std::int64_t gap_violations = 0;   // valid requests of a stream under min_gap after the last
  std::int64_t dropped = 0;          // connections closed on purpose (close_ratio)
  std::int64_t rows_accepted = 0;    // rows in bodies answered 2xx
  std::map<std::string, std::int64_t> rows_by_type;  // of rows_accepted
  std::map<int, std::int64_t> by_status;              // answers sent, by status
};

class receiver {
 public:
  explicit receiver(receiver_config config);
  ~receiver();
  receiver(const receiver&) = delete;
  receiver& operator=(const receiver&) = delete;

  // Binds and starts serving on its own threads. Throws std::runtime_error when the
  // address cannot be bound (never logs and continues).
  void start();
  // Stops accepting, closes connections, joins the threads. Idempotent.
  void stop();
  std::uint16_t port() const;
  receiver_counts counts() const;  // a consistent snapshot, callable from any thread
  nlohmann::json counts_json() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

nlohmann::json to_json(const receiver_counts& counts);

}  // namespace gmsim
