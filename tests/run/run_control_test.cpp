#include "run/run_control.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <thread>
#include <vector>

namespace gmsim {
namespace {

using namespace std::chrono_literals;

// Stands for the workers of a runner: what they published, and the stops they were asked.
// Every wait is bounded: a control loop that never ends fails the test, not the suite.
struct fake_workers {
  std::mutex mutex;
  std::condition_variable changed;
  bool finished = false;
  std::vector<bool> stops;  // hard, in the order asked
  std::chrono::steady_clock::time_point give_up = std::chrono::steady_clock::now() + 20s;
  bool gave_up = false;

  run_control_hooks hooks() {
    run_control_hooks h;
    h.snapshot = [this] {
      std::lock_guard lock(mutex);
      progress_snapshot s;
      s.counts.requests_attempted = 3;
      gave_up = gave_up || std::chrono::steady_clock::now() > give_up;
      s.finished = finished || gave_up;
      return s;
    };
    h.request_stop = [this](bool hard) {
      std::lock_guard lock(mutex);
      stops.push_back(hard);
      changed.notify_all();
    };
    h.progress_line = [](const progress_snapshot& s) {
      return "requests " + std::to_string(s.counts.requests_attempted);
    };
    h.quiet = true;
    return h;
  }
  void finish() {
    std::lock_guard lock(mutex);
    finished = true;
  }
  bool wait_for_stops(std::size_t n) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 10s, [&] { return stops.size() >= n; });
  }
};

TEST(run_control, returns_when_the_last_worker_ends_without_stopping_anyone) {
  fake_workers workers;
  run_control control(workers.hooks());
  std::thread worker([&] {
    workers.finish();
    control.worker_ended();
  });
  control.run();
  worker.join();
  EXPECT_FALSE(workers.gave_up);
  EXPECT_TRUE(workers.stops.empty());
  EXPECT_FALSE(control.interrupted());
  EXPECT_FALSE(control.aborted());
}

TEST(run_control, sigint_stops_gently_then_a_second_one_cuts_requests_in_flight) {
  fake_workers workers;
  run_control control(workers.hooks());  // catches SIGINT from here on
  std::thread sender([&] {
    std::raise(SIGINT);
    if (workers.wait_for_stops(1)) std::raise(SIGINT);
    workers.wait_for_stops(2);
    workers.finish();
    control.worker_ended();
  });
  control.run();
  sender.join();
  EXPECT_FALSE(workers.gave_up);
  EXPECT_EQ(workers.stops, (std::vector<bool>{false, true}));
  EXPECT_TRUE(control.interrupted());
  EXPECT_FALSE(control.aborted());
}

TEST(run_control, should_abort_stops_gently_once_and_progress_gets_the_line) {
  fake_workers workers;
  auto hooks = workers.hooks();
  std::vector<std::string> lines;
  hooks.progress = [&](const std::string& line) { lines.push_back(line); };
  hooks.should_abort = [](const progress_snapshot& total) { return total.counts.requests_attempted >= 3; };
  run_control* control_of_hooks = nullptr;
  auto stop = hooks.request_stop;
  hooks.request_stop = [&](bool hard) {
    stop(hard);
    workers.finish();  // the workers end once stopped
    control_of_hooks->worker_ended();
  };
  run_control control(std::move(hooks));
  control_of_hooks = &control;
  control.run();
  EXPECT_FALSE(workers.gave_up);
  EXPECT_EQ(workers.stops, (std::vector<bool>{false}));
  EXPECT_EQ(lines, (std::vector<std::string>{"requests 3"}));
  EXPECT_TRUE(control.aborted());
  EXPECT_FALSE(control.interrupted());
}

TEST(run_control, snapshots_sum_counts_take_the_highest_p99_and_finish_with_the_last) {
  struct one {
    progress_snapshot s;
    progress_snapshot snapshot() const { return s; }
  };
  std::vector<std::unique_ptr<one>> workers;
  for (int i = 1; i <= 2; ++i) {
    auto w = std::make_unique<one>();
    w->s.counts.requests_attempted = i;
    w->s.counts.rows_generated = 10 * i;
    w->s.p99_us = 100 * (3 - i);
    w->s.finished = i == 1;
    w->s.counts.by_status[200] = i;
    w->s.counts.by_error[1] = i;
    workers.push_back(std::move(w));
  }
  auto total = sum_snapshots(workers);
  EXPECT_EQ(total.counts.requests_attempted, 3);
  EXPECT_EQ(total.counts.rows_generated, 30);
  EXPECT_EQ(total.p99_us, 200);
  EXPECT_FALSE(total.finished);
  EXPECT_EQ(total.counts.by_status[200], 3);
  EXPECT_EQ(total.counts.by_error[1], 3);
  workers[1]->s.finished = true;
  EXPECT_TRUE(sum_snapshots(workers).finished);
  EXPECT_TRUE(sum_snapshots(std::vector<std::unique_ptr<one>>{}).finished);
}

// Issue 20: an exception on a worker's thread (std::bad_alloc under a memory cap) ended
// the process with "terminate called" and no report. Now the others are cut and the run
// returns, saying what was thrown.
TEST(run_control, a_worker_that_throws_cuts_the_others_and_the_run_returns_saying_why) {
  struct worker {
    bool throws = false;
    std::mutex mutex;
    std::condition_variable changed;
    bool stopped = false, hard = false, finished = false;
    progress_snapshot snapshot() {
      std::lock_guard lock(mutex);
      progress_snapshot s;
      s.finished = finished;
      return s;
    }
    void request_stop(bool h) {
      std::lock_guard lock(mutex);
      stopped = true;
      hard = hard || h;
      changed.notify_all();
    }
    void run(const std::function<void()>& on_end) {
      if (throws) throw std::bad_alloc();
      {
        // Runs until stopped (bounded: a control loop that never stops it fails the test).
        std::unique_lock lock(mutex);
        changed.wait_for(lock, 20s, [this] { return stopped; });
        finished = true;
      }
      on_end();
    }
  };
  std::vector<std::unique_ptr<worker>> workers;
  for (int i = 0; i < 3; ++i) {
    workers.push_back(std::make_unique<worker>());
    workers.back()->throws = i == 1;
  }
  run_control_hooks hooks;
  hooks.progress_line = [](const progress_snapshot&) { return std::string(); };
  hooks.quiet = true;
  const auto began = std::chrono::steady_clock::now();
  const control_outcome outcome = run_workers(workers, std::move(hooks));
  EXPECT_LT(std::chrono::steady_clock::now() - began, 15s);
  EXPECT_EQ(outcome.failure, "out of memory (std::bad_alloc)");
  EXPECT_FALSE(outcome.interrupted);
  for (int i : {0, 2}) {
    EXPECT_TRUE(workers[static_cast<std::size_t>(i)]->stopped) << i;
    EXPECT_TRUE(workers[static_cast<std::size_t>(i)]->hard) << i;
  }
}

}  // namespace
}  // namespace gmsim
