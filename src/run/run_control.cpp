#include "run/run_control.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <csignal>
#include <cstdio>

namespace gmsim {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

void progress_snapshot::add(const progress_snapshot& other) {
  counts.add(other.counts);
  backlog_rows += other.backlog_rows;
  in_flight += other.in_flight;
  p99_us = std::max(p99_us, other.p99_us);
  finished = finished && other.finished;
}

run_control::run_control(run_control_hooks hooks)
    : hooks_(std::move(hooks)),
      signals_(io_, SIGINT, SIGTERM),
      tick_(io_),
      grace_(io_),
      tty_(isatty(fileno(stderr)) != 0),
      last_line_(steady::now()) {
  do_wait_signal();
}

void run_control::worker_ended() {
  asio::post(io_, [this] { end_if_finished(hooks_.snapshot()); });
}

void run_control::worker_failed(std::string what) {
  asio::post(io_, [this, what = std::move(what)] {
    if (!failure_.empty()) return;
    failure_ = what;
    hooks_.request_stop(true);
    // The thrower never publishes that it finished; the others end on their own after
    // the hard stop, and their threads are joined after this loop.
    end_if_finished(progress_snapshot{{}, 0, 0, 0, true});
  });
}

void run_control::run() {
  do_tick(std::chrono::milliseconds(100));
  io_.run();
  if (!hooks_.quiet && tty_) std::fprintf(stderr, "\r\033[K");
}

void run_control::do_wait_signal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int number) {
    if (!ec) on_signal(number);
  });
}

// The first signal stops sending and gives requests in flight the grace to finish; a
// second one, or the grace's end, cuts them. Then the reports are written.
void run_control::on_signal(int number) {
  const int n = ++interrupts_;
  if (n == 1) {
    first_signal_ = number;
    const auto grace_ms = hooks_.stop_grace.count();
    std::fprintf(stderr,
                 "\ngmsim: stopping (%s): letting requests in flight finish for up to %lld ms "
                 "(Ctrl-C again to cut them)\n",
                 number == SIGTERM ? "SIGTERM" : "SIGINT", static_cast<long long>(grace_ms));
    grace_.expires_after(hooks_.stop_grace);
    grace_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) hooks_.request_stop(true);
    });
  }
  hooks_.request_stop(n > 1);
  do_wait_signal();
}

void run_control::do_tick(std::chrono::milliseconds after) {
  tick_.expires_after(after);
  tick_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) on_tick();
  });
}

void run_control::on_tick() {
  const progress_snapshot total = hooks_.snapshot();
  if (hooks_.watch) hooks_.watch(total);
  if (end_if_finished(total)) return;
  const auto now = steady::now();
  // Not a terminal (CI logs): a plain line every 10 s rather than a refreshing one.
  const bool print = !hooks_.quiet && (tty_ || now - last_line_ >= std::chrono::seconds(10));
  if (print || hooks_.progress) {
    const std::string line = hooks_.progress_line(total);
    if (print && tty_) {
      std::fprintf(stderr, "\r\033[K%s", line.c_str());
    } else if (print) {
      last_line_ = now;
      std::fprintf(stderr, "%s\n", line.c_str());
    }
    if (hooks_.progress) hooks_.progress(line);
  }
  if (hooks_.should_abort && !aborted_ && hooks_.should_abort(total)) {
    aborted_ = true;
    hooks_.request_stop(false);
  }
  do_tick(std::chrono::milliseconds(tty_ ? 250 : 1000));
}

bool run_control::end_if_finished(const progress_snapshot& total) {
  if (!total.finished) return false;
  signals_.cancel();
  tick_.cancel();
  grace_.cancel();
  return true;
}

void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace gmsim
