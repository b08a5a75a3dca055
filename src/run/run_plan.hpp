// A run's plan: what the command line asks for (run_config), what comes back
// (run_result), and how deployments are split between shards and workers. Shared by the
// dry and live runners, apart from both.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "delivery/stats.hpp"
#include "net/receiver_config.hpp"
#include "net/transport.hpp"
#include "profile/profile.hpp"
#include "scenario/scenario.hpp"

namespace gmsim {

// What a live run or a replay shows while it goes (run_config::watch).
using run_watch = std::function<void(const run_counters& counts, std::int64_t queued_rows,
                                     std::int64_t in_flight)>;

struct run_config {
  profile settings;          // overrides already applied
  int workers = 0;           // 0: one per core
  shard_spec shard;
  bool dry_run = false;      // simulated clock, no network
  std::string record_path;     // NDJSON of every request, when not empty
  std::string lost_rows_path;  // NDJSON of every row not delivered, when not empty
  std::string spill_dir;       // where queued pages past queue_memory_rows wait ("": TMPDIR)
  // Live runs:
  // Where and how to send; a live run needs a target (`gmsim run` without --target starts
  // its embedded receiver and sends there: cli/commands.cpp).
  transport_config transport;
  double time_scale = 1.0;                 // scenario ms per real ms
  millis drain_timeout = 120'000;          // after the duration, to deliver the backlog
  millis stop_grace = 5'000;  // after the first SIGINT/SIGTERM, for requests in flight (real)
  bool quiet = false;                      // no live progress
  // Whether a live run whose auth probes were accepted fails (the gate
  // auth_probes_accepted==0, exit 99), or only reports it (--auth-probes report).
  bool auth_probes_gate = true;
  // Called (on the main thread, about once a second) with a progress line; may be empty.
  std::function<void(const std::string&)> progress;
  // Live runs: called on the main thread, as often as progress, with the counters of all
  // workers merged so far (the histograms are left empty). Returning true stops the run
  // as a first SIGINT does (queued pages stay unsent, requests in flight finish) and sets
  // run_result::aborted rather than interrupted. May be empty. For --abort-on-fail.
  std::function<bool(const run_counters&)> should_stop;
  // Live runs: called on the main thread 1 to 4 times a second with the counters of all
  // workers merged so far (the histograms empty, their coarse buckets filled), the rows
  // queued and the requests in flight now. May be empty. For --metrics-listen.
  run_watch watch;
};

struct run_result {
  run_stats stats;
  std::size_t deployments = 0;  // in this shard
  std::size_t streams = 0;      // in this shard
  std::size_t queues = 0;       // pacing queues (delivery.pacing_scope), in this shard
  int workers = 1;
  double wall_seconds = 0;
  bool interrupted = false;  // stopped by SIGINT or SIGTERM
  int stop_signal = 0;       // which came first (exit 128 + it); 0: none
  bool aborted = false;      // stopped by run_config::should_stop
  std::string target;        // where requests went ("" for a dry run)
  bool replay = false;       // a replay of a recording, not a run of a profile
  std::optional<receiver_counts> receiver;  // what the embedded receiver saw (set by the CLI)
  // The run's own files that could not be written ("--record: PATH: cannot write: ...");
  // the other outputs are still written, and the command exits 1.
  std::vector<std::string> failed_outputs;
  // gmsim's own failure, which ended the run early or left rows unaccounted for (a
  // worker's exception, std::bad_alloc included): the reports hold what was counted, the
  // console and the summary say so, and the command exits 1. "" when none.
  std::string internal_error;
};

// Whether every row of result is accounted for (and every one of expected_requests, when
// not -1); if not, result.internal_error says why.
void note_accounting(run_result& result, std::int64_t expected_requests = -1);

// What a shard takes whole: every count-th unit from index - 1. The unit is the org
// under webhook scope (one pacing queue never spans two shards), the deployment under
// the others; under endpoint scope each shard paces its own queue (docs/distributed.md).
std::uint32_t shard_unit(const scenario& model, std::uint32_t deployment);
bool in_shard(std::size_t unit, const shard_spec& shard);

// The shard's deployments dealt to workers in turn, a pacing queue's deployments all to
// one worker (every deployment of an org under webhook scope, all of the shard's under
// endpoint scope), each worker's in increasing order.
std::vector<std::vector<std::uint32_t>> assign_deployments(const scenario& model,
                                                           const run_config& config, int workers);

// What a run will hold in memory at most, estimated before it starts from what grows
// with a profile (measured: docs/security.md): about 2.5 kB a deployment, 15 kB an
// edge-case instance, 96 bytes a queued row up to delivery.queue_memory_rows, about 100
// bytes a page waiting on disk past it, and a base.
struct memory_estimate {
  std::uint64_t bytes = 0;
  std::string parts;  // "32 MiB base + 100000 deployments x 3 KiB + ..."
};
memory_estimate estimate_memory(const profile& settings);

// The memory this process may still take: the least of the system's MemAvailable, the
// cgroup's memory.max less its memory.current, and RLIMIT_AS less the address space in
// use (with room for the workers' stacks and arenas); with what set it. nullopt when
// none can be read.
struct memory_budget {
  std::uint64_t bytes = 0;
  std::string source;  // "MemAvailable", "cgroup memory.max", "ulimit -v"
};
std::optional<memory_budget> available_memory();

// The first line of this run's recording.
std::string recording_header_line(const run_config& config);

}  // namespace gmsim
