// The pacer: one per stream. Pages go out one at a time (or in_flight at a time), each
// no sooner than min_gap after the previous one started, never before their tick.
#pragma once

#include <deque>
#include <limits>
#include <optional>

#include "delivery/aggregator.hpp"

namespace gmsim {

class pacer {
 public:
  pacer(millis min_gap, int in_flight);

  void push(page&& p);

  // When the front page may start: the latest of its tick and the previous start plus
  // min_gap; nothing while no page waits or every in-flight slot is taken.
  std::optional<millis> next_start() const;

  struct release {
    page body;
    // When it would have started had the receiver answered instantly: the latest of its
    // tick and the previous intended start plus min_gap. Latency is measured from here,
    // so a slow receiver cannot hide the queueing it causes (coordinated omission).
    millis intended = 0;
  };
  // Takes the front page out at now, which must not be before next_start().
  release start(millis now);
  // A request of this stream has ended, whatever its outcome.
  void finish();

  bool idle() const { return queue_.empty() && in_flight_ == 0; }
  std::size_t backlog_pages() const { return queue_.size(); }
  std::size_t backlog_rows() const { return backlog_rows_; }
  int in_flight() const { return in_flight_; }
  // Takes every waiting page out (the run stopped): they are unsent.
  std::deque<page> drain();
  // Takes the oldest waiting page out (gmsim's queue bound): it is unsent. Needs a page.
  page drop_oldest();

 private:
  static constexpr millis never = std::numeric_limits<millis>::min() / 2;
  millis min_gap_;
  int max_in_flight_;
  int in_flight_ = 0;
  millis last_start_ = never;
  millis last_intended_ = never;
  std::size_t backlog_rows_ = 0;
  std::deque<page> queue_;
};

}  // namespace gmsim
