#include "delivery/engine.hpp"
#include "scenario/generator.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <limits>

namespace gmsim {
namespace {

constexpr millis no_time = std::numeric_limits<millis>::min();
constexpr std::int64_t no_start_us = std::numeric_limits<std::int64_t>::min() / 2;

// Real time in µs since the run's start, as a type of its own: holds are kept in it,
// ticks and sends in scenario ms (millis), and the compiler keeps the two apart.
struct real_us {
  std::int64_t value;
  auto operator<=>(const real_us&) const = default;
};
constexpr real_us no_hold{std::numeric_limits<std::int64_t>::min() / 2};

// A due time and its stream.
template <class Time>
struct wake {
  Time t;
  std::uint32_t stream;
  // A min-heap on (t, stream): the order is the same in every run.
  bool operator>(const wake& o) const { return t != o.t ? t > o.t : stream > o.stream; }
};

// A min-heap of wakes, in one unit of time.
template <class Time>
class agenda {
 public:
  void push(const wake<Time>& w) {
    heap_.push_back(w);
    std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
  }
  wake<Time> pop() {
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
    wake<Time> w = heap_.back();
    heap_.pop_back();
    return w;
  }
  bool due(Time now) const { return !heap_.empty() && heap_.front().t <= now; }
  bool empty() const { return heap_.empty(); }
  Time front() const { return heap_.front().t; }
  void clear() { heap_.clear(); }

 private:
  std::vector<wake<Time>> heap_;
};

struct request_slot {
  bool busy = false;
  page body_page;
  millis intended = 0;
  std::int64_t started_us = 0;
  std::string body;
};

struct stream_state {
  stream_state(const stream_info& s, const delivery_spec& d)
      : info(s), rows(s, d.batch_rows), pace(d.min_gap, d.in_flight), slots(d.in_flight) {}
  stream_info info;
  aggregator rows;
  pacer pace;
  std::vector<request_slot> slots;
  bool sending = false;      // inside try_send: completions must not recurse into it
  millis wake_at = no_time;  // the pending send wake-up, if any
  // The real time of the latest request start, and of the pending hold, if any. The
  // pacer counts whole milliseconds: a request that started 0.4 ms into its millisecond
  // would let the next one go 199.6 ms later. The gap is kept here, in real time.
  std::int64_t last_start_us = no_start_us;
  real_us hold_until = no_hold;
  // When a slot last came free while every slot was taken: no request could start
  // before it, so the sender's own lateness is counted from there at the earliest.
  std::int64_t unblocked_us = no_start_us;
};

struct deployment_state {
  deployment_generator generator;
  std::array<std::int32_t, webhook_type_count> local_stream{-1, -1, -1};
};

}  // namespace

struct engine::impl {
  impl(engine_setup s, const clock& c, request_sender& r, run_stats& st)
      : setup(std::move(s)), model(*setup.model), time(c), sender(r), stats(st) {
    const auto& delivery = model.settings().delivery;
    min_gap_us = time.real_at_us(delivery.min_gap) - time.real_at_us(0);
    for (std::uint32_t d : setup.deployments) {
      deployments.push_back(deployment_state{deployment_generator(model, d), {-1, -1, -1}});
    }
    // Streams in global order, which the deployments' order preserves.
    std::size_t local_dep = 0;
    for (const auto& s : model.streams()) {
      while (local_dep < setup.deployments.size() && setup.deployments[local_dep] < s.deployment) {
        ++local_dep;
      }
      if (local_dep == setup.deployments.size() || setup.deployments[local_dep] != s.deployment) {
        continue;
      }
      auto local = static_cast<std::uint32_t>(streams.size());
      deployments[local_dep].local_stream[static_cast<int>(s.type)] =
          static_cast<std::int32_t>(local);
      stream_deployment.push_back(static_cast<std::uint32_t>(local_dep));
      streams.emplace_back(s, delivery);
      millis first = std::min(s.phase, model.settings().duration);
      ticks.push({first, local});
    }
  }

  // Sends first, then ticks, the clock read again after each: a tick can take a while
  // (generation, merging, cutting), and many fall due together (the last one of every
  // stream is at the end of the duration); requests due meanwhile must not wait for
  // them. What a tick cuts depends on its time only, not on when it runs. One tick per
  // call at most: when the worker cannot keep up (more generation than its core does at
  // this time scale), ticks keep falling due while it works, and an open-ended loop
  // never gave the thread back to the answers and writes in flight (they stalled for
  // seconds). The order is the same as in one loop: the caller calls again while due.
  void run_due() {
    for (;;) {
      if (holds.due(real_us{time.real_now_us()})) {
        const auto w = holds.pop();
        auto& s = streams[w.stream];
        if (s.hold_until == w.t) s.hold_until = no_hold;
        try_send(w.stream);
        continue;
      }
      const millis now = time.now();
      if (sends.due(now)) {
        const auto w = sends.pop();
        auto& s = streams[w.stream];
        if (s.wake_at == w.t) s.wake_at = no_time;
        try_send(w.stream);
      } else if (!stopped && ticks.due(now)) {
        const auto w = ticks.pop();
        tick(w.stream, w.t);
        return;
      } else {
        return;
      }
    }
  }

  // The earliest wake-up in real µs, holds included.
  std::optional<std::int64_t> next_wakeup_real_us() const {
    std::optional<std::int64_t> next;
    auto consider = [&next](std::int64_t t) { next = next ? std::min(*next, t) : t; };
    if (!stopped && !ticks.empty()) consider(time.real_at_us(ticks.front()));
    if (!sends.empty()) consider(time.real_at_us(sends.front()));
    if (!holds.empty()) consider(holds.front().value);
    return next;
  }

  // Generation is lazy: a deployment's events up to t are made when one of its streams
  // ticks, and go to the aggregators of all its streams.
  void generate(deployment_state& dep, millis t) {
    events.clear();
    auto sessions_before = dep.generator.sessions_started();
    dep.generator.generate_until(t, events);
    stats.sessions_started +=
        static_cast<std::int64_t>(dep.generator.sessions_started() - sessions_before);
    stats.events_generated += static_cast<std::int64_t>(events.size());
    for (const event& e : events) {
      // Every type the generator emits has a stream: it only emits the deployment's types.
      streams[static_cast<std::size_t>(dep.local_stream[static_cast<int>(e.type)])].rows.add(e);
    }
  }

  void tick(std::uint32_t local, millis t) {
    cut_tick(local, t);
    try_send(local);
  }

  // A tick's work but sending: its deployment's events up to t, its stream's pages cut,
  // the stream's next tick scheduled (every max_delay, the last one at the duration).
  void cut_tick(std::uint32_t local, millis t) {
    generate(deployments[stream_deployment[local]], t);
    cut_pages(streams[local], t);
    const millis duration = model.settings().duration;
    if (t < duration) {
      ticks.push({std::min(t + model.settings().delivery.max_delay, duration), local});
    }
  }

  void cut_pages(stream_state& s, millis t) {
    pages.clear();
    s.rows.flush(t, pages, merge_space);
    for (auto& p : pages) {
      auto n = static_cast<std::int64_t>(p.rows.size());
      stats.rows_generated += n;
      stats.rows_by_type[static_cast<int>(s.info.type)] += n;
      s.pace.push(std::move(p));
    }
  }

  void try_send(std::uint32_t local) {
    auto& s = streams[local];
    if (s.sending) return;
    s.sending = true;
    while (auto start = s.pace.next_start()) {
      const millis now = time.now();
      // One reading of the clock is both the start recorded and the one the next gap is
      // kept from. On the simulated clock it is a whole millisecond and the pacer's
      // rule is the same as this one, so nothing is ever held there.
      const std::int64_t started_us = time.real_now_us();
      const std::int64_t gate_us = s.last_start_us + min_gap_us;
      if (*start > now || started_us < gate_us) {
        if (gate_us > time.real_at_us(*start)) {
          const real_us gate{gate_us};
          if (s.hold_until == no_hold || s.hold_until > gate) {
            s.hold_until = gate;
            holds.push({gate, local});
          }
        } else if (s.wake_at == no_time || s.wake_at > *start) {
          s.wake_at = *start;
          sends.push({*start, local});
        }
        break;
      }
      s.last_start_us = started_us;
      auto released = s.pace.start(now);
      auto slot_index =
          static_cast<std::uint32_t>(std::find_if(s.slots.begin(), s.slots.end(),
                                                  [](const request_slot& r) { return !r.busy; }) -
                                     s.slots.begin());
      request_slot& slot = s.slots[slot_index];
      slot.busy = true;
      slot.body_page = std::move(released.body);
      slot.intended = released.intended;
      if (!spare_bodies.empty()) {
        slot.body = std::move(spare_bodies.back());
        spare_bodies.pop_back();
      }
      setup.body_encoder->encode(slot.body_page, slot.body);
      slot.started_us = started_us;
      stats.page_rows.record(static_cast<std::int64_t>(slot.body_page.rows.size()));
      stats.page_bytes.record(static_cast<std::int64_t>(slot.body.size()));
      stats.send_delay_us.record(slot.started_us - time.real_at_us(slot.intended));
      stats.start_delay_us.record(started_us -
                                  std::max({time.real_at_us(*start), gate_us, s.unblocked_us}));
      stats.requests_by_type[static_cast<int>(s.info.type)] += 1;
      requests_in_flight += 1;
      sender.send(local, slot_index, slot.body);
    }
    s.sending = false;
  }

  void complete(std::uint32_t local, std::uint32_t slot_index, const request_outcome& outcome,
                std::int64_t started_us, std::int64_t finished_us) {
    auto& s = streams[local];
    request_slot& slot = s.slots[slot_index];
    const auto rows = static_cast<std::int64_t>(slot.body_page.rows.size());
    if (model.has_auth_cases() &&
        model.auth_of(s.info.index, slot.body_page.ready) != request_auth::normal) {
      stats.auth_probes += 1;
      if (outcome.kind == outcome_kind::delivered) stats.auth_probes_accepted += 1;
    }
    const auto bytes = static_cast<std::int64_t>(slot.body.size());
    const std::int64_t latency_us = finished_us - time.real_at_us(slot.intended);
    stats.count_answer(outcome, rows, bytes, latency_us, finished_us - started_us);
    stats.over_time.record_request(time.now(), outcome, rows, bytes, latency_us);
    if (outcome.kind == outcome_kind::delivered) {
      const millis now = time.now();
      for (const auto& row : slot.body_page.rows) stats.lag_ms.record(now - row.oldest);
    }
    if (setup.ledgers != nullptr) {
      setup.ledgers->request_ended(s.info, slot.body_page, slot.intended, outcome, slot.started_us,
                                   finished_us - started_us, slot.body);
    }
    if (s.pace.in_flight() == static_cast<int>(s.slots.size())) s.unblocked_us = finished_us;
    slot.busy = false;
    // An idle slot holds nothing: its body's buffer goes to the next request of any
    // stream, so a run keeps as many buffers as it had requests in flight at once.
    spare_bodies.push_back(std::move(slot.body));
    slot.body_page = page{};
    s.pace.finish();
    requests_in_flight -= 1;
    assert(requests_in_flight >= 0);  // one complete() per send()
    if (!stopped) {
      try_send(local);
    } else if (requests_in_flight <= 0 && !accounted_until_stop) {
      account_until_stop();
    }
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    stop_time = time.now();
    sends.clear();
    holds.clear();
    for (auto& s : streams) drain_unsent(s);
    // What viewers did up to the stop is counted once the answers in flight are in: it
    // can be much (below), and answers waiting behind it would be measured late.
    if (requests_in_flight <= 0) account_until_stop();
  }

  // What viewers did up to the stop happened, though no tick has generated it yet: it
  // is lost to the stop too, and the report must count it. That is up to max_delay of
  // traffic, or more when the worker fell behind its ticks (more generation than its
  // core does at this time scale): then the ticks it missed run now, in their order and
  // without sending, each one's pages unsent at once, so that rows are cut as the ticks
  // would have cut them and memory holds one tick's events at a time, not all of them.
  void account_until_stop() {
    accounted_until_stop = true;
    while (ticks.due(stop_time)) {
      const auto w = ticks.pop();
      cut_tick(w.stream, w.t);
      drain_unsent(streams[w.stream]);
    }
    ticks.clear();
    for (auto& dep : deployments) generate(dep, stop_time);
    for (auto& s : streams) {
      cut_pages(s, stop_time);
      drain_unsent(s);
    }
  }

  // Every page queued on s becomes unsent, at the stop.
  void drain_unsent(stream_state& s) {
    static const request_outcome unsent{outcome_kind::unsent, 0, failure_kind::none,
                                        "the run stopped first"};
    for (auto& p : s.pace.drain()) {
      auto rows = static_cast<std::int64_t>(p.rows.size());
      stats.count_unsent(s.info.type, rows);
      stats.over_time.record_unsent(stop_time, rows);
      if (setup.ledgers != nullptr) {
        setup.ledgers->page_unsent(s.info, p, std::max(p.ready, stop_time), unsent);
      }
    }
  }

  engine_setup setup;
  const scenario& model;
  const clock& time;
  request_sender& sender;
  run_stats& stats;
  std::vector<deployment_state> deployments;
  std::vector<stream_state> streams;
  std::vector<std::uint32_t> stream_deployment;  // local stream -> local deployment
  agenda<millis> ticks;   // when each stream's next flush tick falls
  agenda<millis> sends;   // when the pacer lets a stream's next page go
  agenda<real_us> holds;  // when the gap since a stream's last real start is over
  std::int64_t min_gap_us = 0;
  bool stopped = false;
  millis stop_time = 0;
  bool accounted_until_stop = false;
  int requests_in_flight = 0;  // sent and not complete, all streams
  // Reused buffers.
  std::vector<event> events;
  std::vector<page> pages;
  merge_scratch merge_space;              // every stream's aggregator merges in it
  std::vector<std::string> spare_bodies;  // the buffers of the requests that ended
};

engine::engine(engine_setup setup, const clock& time, request_sender& sender)
    : impl_(std::make_unique<impl>(std::move(setup), time, sender, stats_)) {
  // Here, not in impl's constructor: stats_ is constructed after impl_.
  stats_.over_time = timeseries(timeseries::default_max_buckets,
                                timeseries::bucket_ms_for(impl_->model.settings().duration));
}

engine::~engine() = default;

std::optional<millis> engine::next_wakeup() const {
  std::optional<millis> next;
  if (!impl_->stopped && !impl_->ticks.empty()) next = impl_->ticks.front();
  if (!impl_->sends.empty())
    next = next ? std::min(*next, impl_->sends.front()) : impl_->sends.front();
  return next;
}

std::optional<std::int64_t> engine::next_wakeup_real_us() const {
  return impl_->next_wakeup_real_us();
}

void engine::run_due() { impl_->run_due(); }

void engine::complete(std::uint32_t stream, std::uint32_t slot, const request_outcome& outcome,
                      std::int64_t started_us, std::int64_t finished_us) {
  impl_->complete(stream, slot, outcome, started_us, finished_us);
}

void engine::stop() { impl_->stop(); }

bool engine::done() const {
  if (!impl_->ticks.empty() || !impl_->sends.empty() || !impl_->holds.empty()) return false;
  return std::all_of(impl_->streams.begin(), impl_->streams.end(),
                     [](const stream_state& s) { return s.pace.idle(); });
}

std::size_t engine::stream_count() const { return impl_->streams.size(); }

std::size_t engine::backlog_rows() const {
  std::size_t n = 0;
  for (const auto& s : impl_->streams) n += s.pace.backlog_rows() + s.rows.pending_events();
  return n;
}

int engine::in_flight() const { return impl_->requests_in_flight; }

request_auth engine::auth_of(std::uint32_t stream, std::uint32_t slot) const {
  const auto& s = impl_->streams[stream];
  return impl_->model.auth_of(s.info.index, s.slots[slot].body_page.ready);
}

std::uint32_t engine::global_stream(std::uint32_t local) const {
  return impl_->streams[local].info.index;
}

void run_simulated(engine& e, simulated_clock& time) {
  while (auto t = e.next_wakeup()) {
    time.set(*t);
    e.run_due();
  }
  if (!e.done()) {
    check_accounting(e.stats(), std::max<std::int64_t>(1, static_cast<std::int64_t>(e.backlog_rows())));
  }
}

}  // namespace gmsim
