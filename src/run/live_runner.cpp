// The live run: one io_context per worker thread, each driving its own engine on the
// scaled wall clock and sending through its own keep-alive connections; the main
// thread handles signals and progress. Nothing is shared between workers but the
// immutable scenario and encoder, and a progress snapshot behind a mutex.
#include "run/live_runner.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <thread>

#include "delivery/encoder.hpp"
#include "delivery/engine.hpp"
#include "net/http_connection.hpp"
#include "record/ledger_sink.hpp"
#include "run/run_control.hpp"

namespace gmsim {

namespace {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

// How much further than its duration a closed loop's scenario may run: a 1-minute stress
// holds a week of its arrivals, about 8.7 billion rows, far more than gmsim sends in a
// minute (100 was too little: a 10 s stress against nginx sent 16 million rows, the 1.6
// million rows/s of its whole 100 durations, and then waited). The scenario's memory
// does not grow with it: sessions are drawn as their time comes.
constexpr millis closed_loop_headroom = 10'000;

// Scenario time runs time_scale times faster than the wall clock from the run's start.
class wall_clock final : public clock {
 public:
  wall_clock(steady::time_point start, double scale) : start_(start), scale_(scale) {}
  millis now() const override {
    return static_cast<millis>(static_cast<double>(real_now_us()) * scale_ / 1000.0);
  }
  std::int64_t real_now_us() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - start_).count();
  }
  // Rounded up: a timer that fires at real_at_us(t) must find now() >= t, or the worker
  // would wake to nothing due and spin until the clock reaches t.
  std::int64_t real_at_us(millis t) const override {
    return static_cast<std::int64_t>(std::ceil(static_cast<double>(t) * 1000.0 / scale_));
  }
  steady::time_point when_real_us(std::int64_t us) const {
    return start_ + std::chrono::microseconds(us);
  }

 private:
  steady::time_point start_;
  double scale_;
};

class worker final : public request_sender {
 public:
  worker(const run_config& config, const scenario& model, const encoder& body_encoder,
         std::vector<std::uint32_t> deployments, const wall_clock& time,
         std::shared_ptr<asio::ssl::context> tls)
      : config_(config), time_(time), tls_(std::move(tls)), timer_(io_) {
    ledgers_ = std::make_unique<ledger_sink>(model, !config.record_path.empty(),
                                             !config.lost_rows_path.empty());
    engine_setup setup{&model,
                       &body_encoder,
                       std::move(deployments),
                       ledgers_.get(),
                       /*closed_loop_end=*/0,
                       config.spill_dir};
    if (config.settings.delivery.loop == load_loop::closed) {
      setup.closed_loop_end = config.settings.duration;
    }
    engine_ = std::make_unique<engine>(std::move(setup), time_, *this);
    slots_per_queue_ = static_cast<std::size_t>(model.settings().delivery.in_flight);
    connections_.resize(engine_->queue_count());
    for (auto& c : connections_) c.resize(slots_per_queue_);
    // The drain timeout counts from the last flush: the duration's end, or up to max_delay
    // after it when each stream flushes at its own next tick.
    const auto& d = model.settings().delivery;
    const millis last_flush =
        config.settings.duration + (d.last_flush == final_flush::own_tick ? d.max_delay : 0);
    deadline_ = last_flush + static_cast<millis>(
        static_cast<double>(config.drain_timeout) * config.time_scale);
  }

  // Runs the engine to its end, then calls finished (on this thread).
  void run(const std::function<void()>& finished) {
    asio::post(io_, [this] { on_wake(); });
    do_publish();
    io_.run();
    publish(true);
    finished();
  }

  // From any thread: stop generating; what is queued is unsent; in-flight requests end
  // by themselves within the request timeout, or are cut when hard is set.
  void request_stop(bool hard) {
    asio::post(io_, [this, hard] {
      stopped_ = true;  // only answers are awaited now: no wake-up at the drain deadline
      engine_->stop();
      if (hard) close_connections();
      rearm();
    });
  }

  progress_snapshot snapshot() {
    std::lock_guard lock(mutex_);
    return snapshot_;
  }
  const run_stats& stats() const { return engine_->stats(); }
  std::size_t stream_count() const { return engine_->stream_count(); }
  std::size_t queue_count() const { return engine_->queue_count(); }
  engine& work() { return *engine_; }
  const ledger_sink* ledgers() const { return ledgers_.get(); }

  void send(std::uint32_t queue, std::uint32_t slot, std::string_view body) override {
    auto& connection = connection_for(queue, slot);
    // The completion carries `this` and one word, which fit in std::function's own
    // storage, so a request allocates no completion; the engine keeps the start.
    const std::uint64_t key = std::uint64_t{queue} << 32 | slot;
    connection.send(body, [this, key](const request_outcome& outcome) {
      const auto queue = static_cast<std::uint32_t>(key >> 32);
      const auto slot = static_cast<std::uint32_t>(key);
      engine_->complete(queue, slot, outcome, time_.real_now_us());
      rearm();
    });
  }

 private:
  void on_wake() {
    if (!stopped_ && time_.now() >= deadline_) {
      // The drain timeout is over: what is still queued will not be sent.
      stopped_ = true;
      engine_->stop();
    }
    engine_->run_due();
    rearm();
  }

  // Points the timer at the engine's next wake-up, or ends the worker when it is done.
  void rearm() {
    publish(false);
    if (engine_->done()) {
      timer_.cancel();
      progress_timer_.cancel();
      close_connections();
      io_.stop();
      return;
    }
    auto next = engine_->next_wakeup_real_us();
    if (stopped_ && !next) {
      timer_.cancel();  // only answers are awaited now
      armed_ = false;
      return;
    }
    const std::int64_t deadline_us = time_.real_at_us(deadline_);
    const std::int64_t wake = next ? std::min(*next, deadline_us) : deadline_us;
    // A timer that fires before anything is due costs one empty on_wake; moving it
    // costs a cancellation and a handler. Most changes push the next wake-up later
    // (a request started, an answer came), so only an earlier one moves the timer.
    if (armed_ && armed_for_ <= wake) return;
    armed_ = true;
    armed_for_ = wake;
    timer_.expires_at(time_.when_real_us(wake));
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      armed_ = false;
      on_wake();
    });
  }

  // Every connection, the auth probes' too: requests in flight end as failed/reset.
  void close_connections() {
    for (auto& slots : connections_) {
      for (auto& c : slots) {
        if (c) c->close();
      }
    }
    for (auto& c : probes_) c->close();
  }

  // Progress is published on a timer of its own, so that it moves while the engine
  // only waits for answers.
  void do_publish() {
    progress_timer_.expires_after(std::chrono::milliseconds(250));
    progress_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      publish(false);
      do_publish();
    });
  }

  void publish(bool finished) {
    auto now = steady::now();
    if (!finished && now - last_publish_ < std::chrono::milliseconds(100)) return;
    last_publish_ = now;
    const auto& s = engine_->stats();
    std::lock_guard lock(mutex_);
    snapshot_.counts = s;
    snapshot_.backlog_rows = static_cast<std::int64_t>(engine_->backlog_rows());
    snapshot_.in_flight = engine_->in_flight();
    snapshot_.p99_us = s.latency_us.percentile(99);
    snapshot_.finished = finished;
  }

  // The keep-alive connection of a pacing queue's slot (one per webhook by default);
  // auth probes (rare) get a fresh one, configured without or with a wrong Authorization.
  http_connection& connection_for(std::uint32_t queue, std::uint32_t slot) {
    auto auth = engine_->auth_of(queue, slot);
    if (auth == request_auth::normal) {
      auto& connection = connections_[queue][slot];
      if (!connection) connection = std::make_unique<http_connection>(io_, config_.transport, tls_);
      return *connection;
    }
    transport_config probe = config_.transport;
    probe.auth_string = auth == request_auth::missing ? "" : "gmsim-wrong-" + std::to_string(engine_->stream_of(queue, slot));
    probes_.push_back(std::make_unique<http_connection>(io_, probe, tls_));
    return *probes_.back();
  }

  const run_config& config_;
  const wall_clock& time_;
  std::shared_ptr<asio::ssl::context> tls_;
  asio::io_context io_{1};
  asio::steady_timer timer_;
  asio::steady_timer progress_timer_{io_};
  bool armed_ = false;
  std::int64_t armed_for_ = 0;  // real µs
  bool stopped_ = false;
  millis deadline_ = 0;
  std::unique_ptr<ledger_sink> ledgers_;
  std::unique_ptr<engine> engine_;
  std::vector<std::vector<std::unique_ptr<http_connection>>> connections_;
  std::size_t slots_per_queue_ = 1;
  std::vector<std::unique_ptr<http_connection>> probes_;
  std::mutex mutex_;
  progress_snapshot snapshot_;
  steady::time_point last_publish_{};
};

// After the duration: how far into the final flushes and the drain the run is.
std::string after_duration(const run_config& config, const wall_clock& time) {
  const millis past = time.now() - config.settings.duration;
  if (past < 1000) return "";
  return ", then " + format_duration(past / 1000 * 1000) +
         (config.settings.delivery.last_flush == final_flush::own_tick &&
                  past < config.settings.delivery.max_delay
              ? " of final flushes"
              : " of draining");
}

std::string progress_line(const run_config& config, const wall_clock& time,
                          const progress_snapshot& total) {
  const run_counters& c = total.counts;
  char line[256];
  std::snprintf(line, sizeof line,
                "%s / %s  requests %lld  rows %lld  delivered %s  errors %lld  p99 %.1fms  "
                "in flight %lld  backlog %lld rows",
                format_duration(std::min(time.now(), config.settings.duration) / 1000 * 1000).c_str(),
                (format_duration(config.settings.duration) + after_duration(config, time)).c_str(),
                static_cast<long long>(c.requests_attempted), static_cast<long long>(c.rows_generated),
                format_percent(c.rows_delivered, c.rows_generated).c_str(),
                static_cast<long long>(c.requests_failed + c.requests_rejected),
                static_cast<double>(total.p99_us) / 1000.0,
                static_cast<long long>(total.in_flight), static_cast<long long>(total.backlog_rows));
  return line;
}

}  // namespace

run_result run_live(const run_config& input) {
  run_config config = input;
  const auto began = steady::now();
  raise_descriptor_limit();
  if (config.transport.target.text.empty()) {
    throw std::invalid_argument("a live run needs a target (gmsim run starts its embedded "
                                "receiver when --target is not given)");
  }
  config.transport.request_timeout = config.settings.delivery.timeout;
  std::shared_ptr<asio::ssl::context> tls;
  if (config.transport.target.tls) tls = make_tls_context(config.transport);
  // Connections build their headers when a stream first sends, on a worker thread, where
  // a bad header or auth string (a line break) would throw past the thread and abort
  // the process. Building them once here makes it a usage error before anything starts.
  {
    asio::io_context probe;
    http_connection check(probe, config.transport, tls);
  }

  // A closed loop's scenario runs ahead of the clock, as far as the receiver takes it:
  // up to closed_loop_headroom times the duration's traffic.
  const bool closed = config.settings.delivery.loop == load_loop::closed;
  scenario model(config.settings, closed ? config.settings.duration * closed_loop_headroom : 0);
  encoder body_encoder(model);
  int count = config.workers > 0 ? config.workers
                                 : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto assignment = assign_deployments(model, config, count);
  wall_clock time(steady::now(), config.time_scale);
  std::vector<std::unique_ptr<worker>> workers;
  run_result result;
  result.workers = count;
  result.target = config.transport.target.text;
  for (int i = 0; i < count; ++i) {
    result.deployments += assignment[static_cast<std::size_t>(i)].size();
    workers.push_back(std::make_unique<worker>(config, model, body_encoder,
                                               assignment[static_cast<std::size_t>(i)], time, tls));
    result.streams += workers.back()->stream_count();
    result.queues += workers.back()->queue_count();
  }
  std::vector<engine*> engines;
  for (auto& w : workers) engines.push_back(&w->work());
  bound_queues(engines, model.settings().delivery);

  // The main thread: signals, progress, and the end.
  run_control_hooks hooks;
  hooks.progress_line = [&](const progress_snapshot& total) {
    return progress_line(config, time, total);
  };
  if (config.should_stop) {
    hooks.should_abort = [&](const progress_snapshot& total) {
      return config.should_stop(total.counts);
    };
  }
  hooks.quiet = config.quiet;
  hooks.stop_grace = std::chrono::milliseconds(config.stop_grace);
  hooks.progress = config.progress;
  if (config.watch) {
    hooks.watch = [&](const progress_snapshot& total) {
      config.watch(total.counts, total.backlog_rows, total.in_flight);
    };
  }
  const control_outcome control = run_workers(workers, std::move(hooks));

  std::vector<const ledger_sink*> ledgers;
  for (auto& w : workers) {
    result.stats.merge(w->stats());
    ledgers.push_back(w->ledgers());
  }
  result.internal_error = control.failure;
  note_accounting(result);
  result.failed_outputs = merge_ledger_sinks(ledgers, recording_header_line(config),
                                             config.record_path, config.lost_rows_path);
  result.interrupted = control.interrupted;
  result.stop_signal = control.stop_signal;
  result.aborted = control.aborted;
  result.wall_seconds = std::chrono::duration<double>(steady::now() - began).count();
  return result;
}

}  // namespace gmsim
