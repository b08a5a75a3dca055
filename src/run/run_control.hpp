// The main thread of a live run and of a replay, while worker threads send: it catches
// SIGINT and SIGTERM (the first stops the workers and lets requests in flight finish, a
// second cuts them), draws the progress line, and returns when the last worker has ended.
// Private: Asio is allowed here, not in include/gmsim/.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/shown_text.hpp"  // exception_text
#include "delivery/stats.hpp"  // run_counters

namespace gmsim {

// What the main thread may read of a worker while it runs; summed over the workers.
struct progress_snapshot {
  run_counters counts;  // so far
  std::int64_t backlog_rows = 0, in_flight = 0;
  std::int64_t p99_us = 0;  // the highest of the workers', when summed
  bool finished = false;    // summed: every worker has finished

  void add(const progress_snapshot& other);
};

// The snapshots of all workers (each behind its own lock), summed.
template <class Workers>
progress_snapshot sum_snapshots(const Workers& workers) {
  progress_snapshot total;
  total.finished = true;
  for (const auto& w : workers) total.add(w->snapshot());
  return total;
}

// What the control loop needs of a runner. Called on the thread that calls run().
struct run_control_hooks {
  std::function<progress_snapshot()> snapshot;  // of all workers, summed
  std::function<void(bool hard)> request_stop;  // to every worker; hard: cut requests in flight
  std::function<std::string(const progress_snapshot&)> progress_line;
  // Checked at every progress tick; true stops the workers (gently) once. May be empty.
  std::function<bool(const progress_snapshot&)> should_abort;
  bool quiet = false;  // no progress on stderr
  // After the first SIGINT or SIGTERM, how long requests in flight may still finish
  // before they are cut (a container stop sends SIGKILL 10 s after SIGTERM).
  std::chrono::milliseconds stop_grace{5000};
  // Given every progress line, about once a second; may be empty.
  std::function<void(const std::string&)> progress;
  // Given the workers' sums at every tick (4 a second on a terminal, else 1); may be empty.
  std::function<void(const progress_snapshot&)> watch;
};

class run_control {
 public:
  // Catches the signals from here on: construct it before the workers start, so that a
  // Ctrl-C never meets the default action, which ends the process without a report.
  explicit run_control(run_control_hooks hooks);

  // From any thread, when a worker has ended (after its last snapshot): the run ends
  // when the last one does, not at the next progress tick.
  void worker_ended();
  // From any thread, when a worker has thrown (std::bad_alloc, a bug): the others are cut
  // at once (a hard stop) and the run ends, so that the reports hold what was counted.
  void worker_failed(std::string what);

  // Until every worker has ended; then the progress line is cleared.
  void run();

  bool interrupted() const { return interrupts_ > 0; }
  int stop_signal() const { return first_signal_; }  // SIGINT or SIGTERM; 0: none
  bool aborted() const { return aborted_; }  // stopped by should_abort
  const std::string& failure() const { return failure_; }  // the first worker's exception

 private:
  void do_wait_signal();
  void on_signal(int number);
  void do_tick(std::chrono::milliseconds after);
  void on_tick();
  bool end_if_finished(const progress_snapshot& total);

  run_control_hooks hooks_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer tick_;
  boost::asio::steady_timer grace_;  // the stop's grace: then requests in flight are cut
  const bool tty_;  // stderr is a terminal: a refreshing line, not one every 10 s
  std::chrono::steady_clock::time_point last_line_;
  int interrupts_ = 0;
  int first_signal_ = 0;
  bool aborted_ = false;
  std::string failure_;
};

struct control_outcome {
  bool interrupted = false;  // by SIGINT or SIGTERM
  bool aborted = false;      // by should_abort
  int stop_signal = 0;       // the first signal: SIGINT or SIGTERM
  std::string failure;       // a worker's exception, "" when none threw
};

// Runs each worker on a thread of its own, under a control loop on this thread, until the
// last one has ended. A Worker has snapshot(), request_stop(bool hard), and
// run(on_end), which returns, after calling on_end, when the worker has ended. The hooks'
// snapshot and request_stop are filled in here.
template <class Worker>
control_outcome run_workers(const std::vector<std::unique_ptr<Worker>>& workers,
                            run_control_hooks hooks) {
  hooks.snapshot = [&workers] { return sum_snapshots(workers); };
  hooks.request_stop = [&workers](bool hard) {
    for (const auto& w : workers) w->request_stop(hard);
  };
  run_control control(std::move(hooks));  // before the threads: see its constructor
  std::vector<std::thread> threads;
  for (const auto& w : workers) {
    // An exception past a thread would end the process with no report.
    threads.emplace_back([&w, &control] {
      try {
        w->run([&control] { control.worker_ended(); });
      } catch (...) {
        control.worker_failed(exception_text(std::current_exception()));
      }
    });
  }
  control.run();
  for (auto& t : threads) t.join();
  return {control.interrupted(), control.aborted(), control.stop_signal(), control.failure()};
}

// Each stream keeps a connection open: allow as many descriptors as the system lets us.
void raise_descriptor_limit();

}  // namespace gmsim
