#include "run/runner.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>
#include <stdexcept>
#include <thread>

#include "core/shown_text.hpp"  // exception_text
#include "delivery/encoder.hpp"
#include "delivery/engine.hpp"
#include "record/ledger_sink.hpp"
#include "run/live_runner.hpp"

namespace gmsim {
namespace {

// The dry run's sender: every request is answered 200 the moment it leaves.
class instant_sender final : public request_sender {
 public:
  explicit instant_sender(const simulated_clock& time) : time_(time) {}
  void attach(engine& e) { engine_ = &e; }
  void send(std::uint32_t queue, std::uint32_t slot, std::string_view) override {
    static const request_outcome ok{outcome_kind::delivered, 200, failure_kind::none, {}};
    engine_->complete(queue, slot, ok, time_.real_now_us(), time_.real_now_us());
  }

 private:
  const simulated_clock& time_;
  engine* engine_ = nullptr;
};

}  // namespace

namespace {

// A dry run's SIGINT or SIGTERM: the first one's number, for the workers to see. A dry
// run that ignored them (a 2-hour stress dry run writes 14 GB of recording) was killed
// with no report.
std::atomic<int> dry_run_signal{0};
extern "C" void note_dry_run_signal(int number) {
  int none = 0;
  dry_run_signal.compare_exchange_strong(none, number);
}

// Catches SIGINT and SIGTERM while it lives, then gives the old handlers back.
class dry_run_signals {
 public:
  dry_run_signals() {
    dry_run_signal = 0;
    struct sigaction action {};
    action.sa_handler = note_dry_run_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
  }
  ~dry_run_signals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  dry_run_signals(const dry_run_signals&) = delete;
  dry_run_signals& operator=(const dry_run_signals&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

}  // namespace

run_result run(const run_config& config) {
  if (config.shard.count < 1 || config.shard.index < 1 || config.shard.index > config.shard.count) {
    throw std::invalid_argument("shard must be I/N with 1 <= I <= N");
  }
  if (!config.dry_run) return run_live(config);

  const auto began = std::chrono::steady_clock::now();
  scenario model(config.settings);
  encoder body_encoder(model);
  int workers = config.workers > 0 ? config.workers
                                   : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto assignment = assign_deployments(model, config, workers);

  struct worker {
    std::unique_ptr<ledger_sink> ledgers;
    simulated_clock time;
    std::unique_ptr<instant_sender> sender;
    std::unique_ptr<engine> work;
  };
  std::vector<worker> all(static_cast<std::size_t>(workers));
  run_result result;
  for (std::size_t i = 0; i < all.size(); ++i) {
    auto& w = all[i];
    w.ledgers = std::make_unique<ledger_sink>(model, !config.record_path.empty(),
                                              !config.lost_rows_path.empty());
    w.sender = std::make_unique<instant_sender>(w.time);
    engine_setup setup{&model,
                       &body_encoder,
                       assignment[i],
                       w.ledgers.get(),
                       /*closed_loop_end=*/0,
                       config.spill_dir};
    w.work = std::make_unique<engine>(std::move(setup), w.time, *w.sender);
    w.sender->attach(*w.work);
    result.streams += w.work->stream_count();
    result.queues += w.work->queue_count();
    result.deployments += assignment[i].size();
  }
  std::vector<engine*> engines;
  for (auto& w : all) engines.push_back(w.work.get());
  bound_queues(engines, model.settings().delivery);
  // A worker's exception (an engine left with work, std::bad_alloc) ends that worker;
  // the others run to their end, and the reports say it (run_result::internal_error).
  std::vector<std::exception_ptr> failures(all.size());
  const dry_run_signals signals;  // before the workers: a signal now is a stop, not a kill
  auto drive = [&all, &failures](std::size_t i) {
    try {
      run_simulated(*all[i].work, all[i].time, &dry_run_signal);
    } catch (...) {
      failures[i] = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < all.size(); ++i) threads.emplace_back(drive, i);
  drive(0);
  for (auto& t : threads) t.join();
  for (const auto& f : failures) {
    if (f && result.internal_error.empty()) result.internal_error = exception_text(f);
  }

  std::vector<const ledger_sink*> ledgers;
  for (auto& w : all) {
    result.stats.merge(w.work->stats());
    ledgers.push_back(w.ledgers.get());
  }
  note_accounting(result);
  if (const int number = dry_run_signal.load(); number != 0) {
    result.interrupted = true;
    result.stop_signal = number;
    std::fprintf(stderr, "gmsim: stopped (%s): what was not generated yet is not in the reports\n",
                 number == SIGTERM ? "SIGTERM" : "SIGINT");
  }
  result.failed_outputs = merge_ledger_sinks(ledgers, recording_header_line(config),
                                             config.record_path, config.lost_rows_path);
  result.workers = workers;
  result.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  return result;
}

}  // namespace gmsim
