// The engine: one worker's share of a run. It owns its deployments' generators and its
// streams' aggregators and pacers, and runs them on a clock it is given, sending
// through a sender it is given. The same engine runs the dry run (simulated clock,
// instant sender) and the live run (scaled wall clock, HTTP transport).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "delivery/encoder.hpp"
#include "delivery/outcome.hpp"
#include "delivery/pacer.hpp"
#include "delivery/stats.hpp"
#include "scenario/scenario.hpp"

namespace gmsim {

class clock {
 public:
  virtual ~clock() = default;
  // Scenario time: ms since the run's start.
  virtual millis now() const = 0;
  // Real time, in microseconds since the run's start: now, and when scenario time t
  // falls (for latencies, which are always real).
  virtual std::int64_t real_now_us() const = 0;
  virtual std::int64_t real_at_us(millis t) const = 0;
};

// The clock of the dry run and of tests: time moves only when told. (Not final: a test
// gives its real time a jitter, as a wall clock's.)
class simulated_clock : public clock {
 public:
  millis now() const override { return now_; }
  std::int64_t real_now_us() const override { return now_ * 1000; }
  std::int64_t real_at_us(millis t) const override { return t * 1000; }
  void set(millis t) { now_ = t; }

 private:
  millis now_ = 0;
};

// How a request leaves. send() must end, now or later, in exactly one call of
// engine::complete() with the same queue and slot. A queue is the engine's local index
// of a pacing queue (delivery.pacing_scope); a slot, one of its in_flight requests.
class request_sender {
 public:
  virtual ~request_sender() = default;
  virtual void send(std::uint32_t queue, std::uint32_t slot, std::string_view body) = 0;
};

// Where the engine says what became of each page, for the files a run leaves behind
// (record/ledger_sink.hpp writes the recording and the lost rows from it). Called on the
// engine's thread, in the order pages end.
class outcome_sink {
 public:
  virtual ~outcome_sink() = default;
  // An attempted request ended: its page, intended start, outcome, actual start (real µs
  // since the run's start), latency from that start, the exact body sent, and whether it
  // was an auth probe (sent without or with a wrong Authorization on purpose).
  virtual void request_ended(const stream_info& stream, const page& p, millis intended,
                             const request_outcome& outcome, std::int64_t sent_us,
                             std::int64_t latency_us, std::string_view body, bool auth_probe) = 0;
  // A page that never went out: the run stopped first. at: the stop's time, or the page's
  // tick when that is later.
  virtual void page_unsent(const stream_info& stream, const page& p, millis at,
                           const request_outcome& unsent) = 0;
};

struct engine_setup {
  const scenario* model = nullptr;
  const encoder* body_encoder = nullptr;
  std::vector<std::uint32_t> deployments;  // this worker's, in increasing order
  outcome_sink* ledgers = nullptr;         // what became of each page, when anyone asks
  // delivery.loop closed (a live run): the clock's time at which generation stops, the
  // run's duration; 0 for an open loop. Until then a queue with a free request slot and
  // nothing waiting gets its next full page at once, the scenario generated as far ahead
  // of the clock as that takes (the model's generation_end bounds it).
  millis closed_loop_end = 0;
  // Where queued pages past delivery.queue_memory_rows wait (page_spill; "": $TMPDIR or
  // /tmp).
  std::string spill_dir;
};

class engine {
 public:
  engine(engine_setup setup, const clock& time, request_sender& sender);
  ~engine();

  // The earliest time the engine has something to do; nothing when it is done or
  // only waits for answers.
  std::optional<millis> next_wakeup() const;
  // The same in real µs since the run's start (clock::real_now_us), including the
  // requests held because the gap since their stream's last real start is not over
  // yet. Only a clock whose real time runs between milliseconds (the wall clock) holds
  // requests; on the simulated clock this is next_wakeup() in µs.
  std::optional<std::int64_t> next_wakeup_real_us() const;
  // Does what is due at or before the clock's now, but one flush tick at most (a tick
  // can take long: a live worker must get back to its I/O between ticks); while
  // next_wakeup() is due, call again.
  void run_due();
  // A request ended. Called by the sender, once per send().
  void complete(std::uint32_t queue, std::uint32_t slot, const request_outcome& outcome,
                std::int64_t started_us, std::int64_t finished_us);
  // The same, started when the engine handed the request to send(), its body encoded (its
  // real now then).
  void complete(std::uint32_t queue, std::uint32_t slot, const request_outcome& outcome,
                std::int64_t finished_us);
  // Stops the run: no more sending or ticks; every page queued becomes unsent now;
  // requests in flight still complete. Once none is in flight, events up to now are
  // generated (they happened: the ticks missed first, in order) and their rows become
  // unsent too, stamped with the stop's time.
  void stop();

  bool done() const;  // nothing queued, nothing in flight, nothing scheduled
  const run_stats& stats() const { return stats_; }
  std::size_t stream_count() const;
  std::size_t queue_count() const;  // pacing queues: request_sender's queue < this
  std::size_t backlog_rows() const;
  int in_flight() const;
  // This engine's share of delivery.max_queued_rows and of delivery.queue_memory_rows (all
  // of them by default): a run of several engines gives each a share by its queues
  // (bound_queues).
  void bound_queued_rows(std::int64_t rows, std::int64_t memory_rows);
  // How the request in flight in (queue, slot) must be authorised: auth edge cases
  // send some pages without or with a wrong Authorization header.
  request_auth auth_of(std::uint32_t queue, std::uint32_t slot) const;
  // The global stream (scenario::streams()) of the page in flight in (queue, slot).
  std::uint32_t stream_of(std::uint32_t queue, std::uint32_t slot) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  run_stats stats_;
};

// The dry run's loop: runs e on time, from wake-up to wake-up, until nothing is due.
// Throws accounting_error, naming the counts, when the engine then is not done (pages or
// events still waiting that no wake-up would ever send): a run never ends quietly with
// rows neither sent nor counted. When stop is given and becomes non-zero (a signal), the
// engine stops there, as a live run's does, and the loop ends with it.
void run_simulated(engine& e, simulated_clock& time, const std::atomic<int>* stop = nullptr);

// Gives each engine of a run its share of delivery.max_queued_rows, by its queues.
void bound_queues(const std::vector<engine*>& engines, const delivery_spec& delivery);

}  // namespace gmsim
