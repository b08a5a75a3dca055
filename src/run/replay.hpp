// Replay: sends a recording (`gmsim run --record`) to a target again: the same bodies,
// byte for byte, each pacing queue's requests (the recording header's pacing_scope) in
// recorded order at their recorded times (scaled), one at a time per queue, never
// retried. The outcomes are counted as in a live run, so the same reports come out.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

#include "core/duration.hpp"
#include "net/transport.hpp"
#include "record/recording.hpp"
#include "run/runner.hpp"

namespace gmsim {

struct replay_config {
  std::string recording_path;
  transport_config transport;  // target required
  double time_scale = 1.0;     // recorded ms per real ms
  // A queue's request starts no sooner than this (recorded time, so scaled too) after
  // the previous one started, or the recorded gap when that is shorter: a request made
  // late by a slow answer does not push the next one closer than GMetri would.
  millis min_gap = 200;
  int workers = 1;             // threads, each with its queues; 0: one per core
  std::string record_path;     // the replay's own recording, when not empty
  std::string lost_rows_path;  // every row not delivered, when not empty
  bool quiet = false;          // no live progress on stderr
  millis stop_grace = 5'000;   // after the first signal, for requests in flight (real time)
  // Called on the calling thread about once a second with a progress line; may be empty.
  std::function<void(const std::string&)> progress;
  // Called as often as progress with the counters so far; true stops the replay as a
  // first SIGINT does and sets run_result::aborted. May be empty. For --abort-on-fail.
  std::function<bool(const run_counters&)> should_stop;
  // As run_config::watch; the header given to replay() is filled before the first call.
  run_watch watch;
};

// Reads and checks the whole recording before sending anything (throws recording_error),
// then replays it until every request has ended, or SIGINT/SIGTERM (the first lets
// requests in flight finish, a second cuts them; what is left is unsent). Fills header,
// when given, with the recording's. Throws std::invalid_argument on bad settings (no
// target, TLS ca_file), std::runtime_error on a file it cannot write.
// result.deployments and result.streams count the recording's; stats.lag_ms stays empty
// (a recording holds no event times) and so do events and sessions.
run_result replay(const replay_config& config, recording_header* header = nullptr);

// The run_config that summary_json and summary_text read for a replay: the recording's
// profile name, seed, start time and shard; duration = last_t_ms; not a dry run.
run_config replay_report_config(const replay_config& config, const recording_header& header);

}  // namespace gmsim
