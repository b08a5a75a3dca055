#include "delivery/pacer.hpp"

#include <algorithm>
#include <utility>

namespace gmsim {

pacer::pacer(millis min_gap, int in_flight)
    : min_gap_(std::max<millis>(0, min_gap)), max_in_flight_(std::max(1, in_flight)) {}

void pacer::push(page&& p) {
  backlog_rows_ += p.row_count();
  queue_.push_back(std::move(p));
}

std::optional<millis> pacer::next_start() const {
  if (queue_.empty() || in_flight_ >= max_in_flight_) return std::nullopt;
  return std::max(queue_.front().ready, last_start_ + min_gap_);
}

pacer::release pacer::start(millis now) {
  release r{std::move(queue_.front()), 0};
  queue_.pop_front();
  backlog_rows_ -= r.body.row_count();
  r.intended = std::max(r.body.ready, last_intended_ + min_gap_);
  last_intended_ = r.intended;
  last_start_ = now;
  ++in_flight_;
  return r;
}

void pacer::finish() {
  if (in_flight_ > 0) --in_flight_;
}

page pacer::drop_oldest() {
  page oldest = std::move(queue_.front());
  queue_.pop_front();
  backlog_rows_ -= oldest.row_count();
  return oldest;
}

std::deque<page> pacer::drain() {
  backlog_rows_ = 0;
  return std::exchange(queue_, {});
}

}  // namespace gmsim
