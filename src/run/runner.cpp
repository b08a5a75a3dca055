#include "run/runner.hpp"

#include <chrono>
#include <exception>
#include <memory>
#include <stdexcept>
#include <thread>

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
    engine_setup setup{&model, &body_encoder, assignment[i], w.ledgers.get()};
    w.work = std::make_unique<engine>(std::move(setup), w.time, *w.sender);
    w.sender->attach(*w.work);
    result.streams += w.work->stream_count();
    result.queues += w.work->queue_count();
    result.deployments += assignment[i].size();
  }
  std::vector<engine*> engines;
  for (auto& w : all) engines.push_back(w.work.get());
  bound_queues(engines, model.settings().delivery.max_queued_rows);
  // A worker's failure (an engine left with work) is rethrown here, on the main thread.
  std::vector<std::exception_ptr> failures(all.size());
  auto drive = [&all, &failures](std::size_t i) {
    try {
      run_simulated(*all[i].work, all[i].time);
    } catch (...) {
      failures[i] = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < all.size(); ++i) threads.emplace_back(drive, i);
  drive(0);
  for (auto& t : threads) t.join();
  for (const auto& f : failures) {
    if (f) std::rethrow_exception(f);
  }

  std::vector<const ledger_sink*> ledgers;
  for (auto& w : all) {
    result.stats.merge(w.work->stats());
    ledgers.push_back(w.ledgers.get());
  }
  check_accounting(result.stats);
  result.failed_outputs = merge_ledger_sinks(ledgers, recording_header_line(config),
                                             config.record_path, config.lost_rows_path);
  result.workers = workers;
  result.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  return result;
}

}  // namespace gmsim
