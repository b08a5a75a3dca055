#include "delivery/engine.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "delivery/page_spill.hpp"
#include "scenario/generator.hpp"

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

// A due time and its stream (ticks) or queue (sends, holds).
template <class Time>
struct wake {
  Time t;
  std::uint32_t unit;
  // A min-heap on (t, unit): the order is the same in every run.
  bool operator>(const wake& o) const { return t != o.t ? t > o.t : unit > o.unit; }
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
  std::uint32_t stream = 0;  // local: the page's
  page body_page;
  millis intended = 0;
  std::int64_t started_us = 0;  // real µs: the start the pacing rules count from
  // Real µs when the request went to the sender, its body encoded (and read back from
  // disk): where uncorrected latency starts, for a sender that does not say.
  std::int64_t sent_us = 0;
  std::string body;
};

// A stream: its rows wait here for its ticks, then go to its pacing queue as pages.
struct stream_state {
  stream_state(const stream_info& s, const delivery_spec& d, millis longest, std::uint32_t q)
      : info(s), rows(s, d.batch_rows, d.variables, longest), queue(q) {}
  stream_info info;
  aggregator rows;
  std::uint32_t queue;  // local
  millis last_cut = 0;  // closed loop: its last tick, in scenario time
};

// A pacing queue (delivery.pacing_scope): one or more streams' pages in the order cut,
// one gap and in_flight slots for all of them.
struct queue_state {
  explicit queue_state(const delivery_spec& d) : pace(d.min_gap, d.in_flight), slots(d.in_flight) {}
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
  std::size_t peak_rows = 0;  // the most rows that waited in it at once
  // Closed loop: the local deployments whose streams' pages it sends, taken in turn, and
  // whether it waits for one of them to be fed (their other queues were full).
  std::vector<std::uint32_t> feeders;
  std::size_t next_feeder = 0;
  bool hungry = false;
};

struct deployment_state {
  deployment_generator generator;
  std::array<std::int32_t, webhook_type_count> local_stream{-1, -1, -1};
  // session.modified_at latest_event: the latest event so far of each session whose row
  // is not cut yet, by the low 32 bits of its ordinal (every event's session_tag).
  std::unordered_map<std::uint32_t, millis> session_latest;
  // Closed loop: how far its events are generated (scenario time, ahead of the clock),
  // the next step forward, and whether its scenario is spent (generation_end reached).
  millis generated_to = 0;
  millis step = 0;
  bool spent = false;
};

// The longest a session can last (its events lie within it): the bound of the length's
// distribution when it has one, else the whole run.
millis longest_session(const profile& p) {
  const auto& d = p.session.length_ms;
  double bound = d.kind == distribution_kind::constant ? d.mean
                 : d.max > d.min                       ? d.max
                                                       : static_cast<double>(p.duration);
  return std::min(p.duration, static_cast<millis>(std::ceil(bound)) + 1);
}

}  // namespace

struct engine::impl {
  impl(engine_setup s, const clock& c, request_sender& r, run_stats& st)
      : setup(std::move(s)), model(*setup.model), time(c), sender(r), stats(st) {
    const auto& delivery = model.settings().delivery;
    min_gap_us = time.real_at_us(delivery.min_gap) - time.real_at_us(0);
    latest_event = model.settings().session.modified_at == session_modified::latest_event;
    closed = setup.closed_loop_end > 0;
    closed_wait = std::max<millis>(60'000, delivery.max_delay);
    queued_rows_cap = delivery.max_queued_rows;
    memory_rows_cap = delivery.queue_memory_rows;
    const millis longest = longest_session(model.settings());
    for (std::uint32_t d : setup.deployments) {
      deployments.push_back(deployment_state{
          deployment_generator(model, d), {-1, -1, -1}, {}, 0, closed_step, false});
    }
    // delivery.flush eager: each deployment is looked at every min_gap (10 ms at least)
    // for streams with batch_rows rows waiting; the first look at its first step.
    if (delivery.flush == flush_mode::eager && !closed) {
      eager_step = std::max<millis>(delivery.min_gap, 10);
      for (std::uint32_t d = 0; d < deployments.size(); ++d) {
        if (eager_step < model.settings().duration) checks.push({eager_step, d});
      }
    }
    // Streams in global order, which the deployments' order preserves; queues in the
    // order their first stream comes.
    // Global queue -> local one (-1: none yet). A queue's id is an org, deployment or
    // stream index, or 0: never above the stream count.
    std::vector<std::int32_t> queue_of(model.streams().size() + 1, -1);
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
      auto& local_queue = queue_of.at(s.queue);
      if (local_queue < 0) {
        local_queue = static_cast<std::int32_t>(queues.size());
        queues.emplace_back(delivery);
      }
      streams.emplace_back(s, delivery, longest, static_cast<std::uint32_t>(local_queue));
      auto& feeders = queues[static_cast<std::size_t>(local_queue)].feeders;
      if (feeders.empty() || feeders.back() != local_dep) {
        feeders.push_back(static_cast<std::uint32_t>(local_dep));
      }
      if (!closed) ticks.push({first_tick(s), local});
    }
    // A closed loop has no ticks on the clock: each queue is fed at the start, then
    // whenever a slot frees, until the loop's end.
    if (closed) {
      for (std::uint32_t q = 0; q < queues.size(); ++q) sends.push({0, q});
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
      if (feeding() && time.now() >= setup.closed_loop_end) {
        end_closed_loop();
        continue;
      }
      if (holds.due(real_us{time.real_now_us()})) {
        const auto w = holds.pop();
        auto& q = queues[w.unit];
        if (q.hold_until == w.t) q.hold_until = no_hold;
        try_send(w.unit);
        continue;
      }
      const millis now = time.now();
      if (sends.due(now)) {
        const auto w = sends.pop();
        auto& q = queues[w.unit];
        if (q.wake_at == w.t) q.wake_at = no_time;
        try_send(w.unit);
      } else if (!stopped && ticks.due(now) &&
                 (!checks.due(now) || ticks.front() <= checks.front())) {
        const auto w = ticks.pop();
        tick(w.unit, w.t);
        return;
      } else if (!stopped && checks.due(now)) {
        const auto w = checks.pop();
        check_full(w.unit, w.t);
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
    if (!stopped && !checks.empty()) consider(time.real_at_us(checks.front()));
    if (feeding()) consider(time.real_at_us(setup.closed_loop_end));
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
    if (latest_event) note_latest(dep);
    for (const event& e : events) {
      // Every type the generator emits has a stream: it only emits the deployment's types.
      streams[static_cast<std::size_t>(dep.local_stream[static_cast<int>(e.type)])].rows.add(e);
    }
  }

  // session.modified_at latest_event: a session's creation opens its entry (an edge
  // case's scripted session does not: its times are its own), its other events move it.
  void note_latest(deployment_state& dep) {
    for (const event& e : events) {
      if (e.type == webhook_type::session) {
        if ((e.payload >> 62) == 0) {
          auto [it, added] = dep.session_latest.try_emplace(e.session_tag, e.t);
          if (!added) it->second = std::max(it->second, e.t);
        }
      } else if (auto it = dep.session_latest.find(e.session_tag); it != dep.session_latest.end()) {
        it->second = std::max(it->second, e.t);
      }
    }
  }

  // delivery.flush eager: the deployment's events up to t, and each of its streams with
  // batch_rows rows waiting flushes now; the next look one step later, before the end.
  void check_full(std::uint32_t dep_local, millis t) {
    auto& dep = deployments[dep_local];
    generate(dep, t);
    for (auto local : dep.local_stream) {
      if (local < 0) continue;
      auto& s = streams[static_cast<std::size_t>(local)];
      if (!s.rows.has_full_page(merge_space)) continue;
      cut_pages(s, t);
      try_send(s.queue);
    }
    if (t + eager_step < model.settings().duration) checks.push({t + eager_step, dep_local});
  }

  void tick(std::uint32_t local, millis t) {
    cut_tick(local, t);
    try_send(streams[local].queue);
  }

  // A stream's first tick: its phase; at the duration's end at the latest when the run
  // must end on time (final_flush at_duration).
  millis first_tick(const stream_info& s) const {
    const auto& p = model.settings();
    return p.delivery.last_flush == final_flush::at_duration ? std::min(s.phase, p.duration)
                                                             : s.phase;
  }

  // A tick's work but sending: its deployment's events up to t, its stream's pages cut,
  // the stream's next tick scheduled: every max_delay, the last one the first at or after
  // the duration's end (final_flush own_tick), or at the duration's end (at_duration).
  // Generation stops at the duration either way: a tick after it only flushes.
  void cut_tick(std::uint32_t local, millis t) {
    generate(deployments[stream_deployment[local]], t);
    cut_pages(streams[local], t);
    const auto& p = model.settings();
    if (t < p.duration) {
      const millis next = t + p.delivery.max_delay;
      ticks.push({p.delivery.last_flush == final_flush::at_duration ? std::min(next, p.duration)
                                                                     : next,
                  local});
    }
  }

  // Cuts what the stream's aggregator holds into pages and queues them: everything, or
  // full pages only (closed loop, between its ticks).
  void cut_pages(stream_state& s, millis t, bool full_only = false) {
    pages.clear();
    if (full_only) {
      s.rows.flush_full(t, pages, merge_space);
    } else {
      s.rows.flush(t, pages, merge_space);
    }
    // A closed loop's scenario runs ahead of the clock: its pages are ready when cut.
    if (closed) {
      for (auto& p : pages) p.ready = std::min(p.ready, time.now());
    }
    if (latest_event && s.info.type == webhook_type::session) {
      // modified_at: the session's latest event before this flush; the entry is done.
      auto& latest = deployments[stream_deployment[static_cast<std::size_t>(&s - streams.data())]]
                         .session_latest;
      for (auto& p : pages) {
        for (auto& row : p.rows) {
          if ((row.session >> 62) != 0) continue;  // an edge case's: its times are its own
          if (auto it = latest.find(static_cast<std::uint32_t>(row.session)); it != latest.end()) {
            row.newest = std::max(row.newest, it->second);
            latest.erase(it);
          }
        }
      }
    }
    auto& q = queues[s.queue];
    for (auto& p : pages) {
      auto n = static_cast<std::int64_t>(p.rows.size());
      stats.rows_generated += n;
      stats.rows_by_type[static_cast<int>(s.info.type)] += n;
      // Past delivery.queue_memory_rows the page waits on disk. The newest go there: the
      // oldest go out first, and are in memory already. A memory bound at or above the
      // queue bound never spills (the drops below keep the queues under both).
      if (memory_rows + n > memory_rows_cap && memory_rows_cap < queued_rows_cap &&
          spill.store(p)) {
        stats.rows_spilled += n;
        stats.spill_peak_bytes =
            std::max(stats.spill_peak_bytes, static_cast<std::int64_t>(spill.peak_bytes()));
      } else {
        memory_rows += n;
        if (stats.spill_failure.empty() && !spill.failure().empty()) {
          stats.spill_failure = spill.failure();  // it stays in memory: nothing is lost
        }
      }
      q.pace.push(std::move(p));
      queued_rows += n;
    }
    // gmsim's bound: past it, this queue's oldest pages go, unsent and counted apart.
    while (queued_rows > queued_rows_cap && q.pace.backlog_pages() > 0) drop_oldest(q);
    if (q.pace.backlog_rows() > q.peak_rows) {
      q.peak_rows = q.pace.backlog_rows();
      stats.queue_peak_rows =
          std::max(stats.queue_peak_rows, static_cast<std::int64_t>(q.peak_rows));
    }
  }

  // The local stream of a page in a queue: pages carry their global stream.
  std::uint32_t local_stream(std::uint32_t global) const {
    auto it = std::lower_bound(streams.begin(), streams.end(), global,
                               [](const stream_state& s, std::uint32_t g) { return s.info.index < g; });
    assert(it != streams.end() && it->info.index == global);
    return static_cast<std::uint32_t>(it - streams.begin());
  }

  bool feeding() const { return closed && !closed_ended && !stopped; }

  // When the queue's next page may start, feeding it first in a closed loop when it has
  // a free slot and nothing waiting.
  std::optional<millis> next_start(std::uint32_t queue) {
    auto& q = queues[queue];
    auto start = q.pace.next_start();
    if (!start && feeding() && q.pace.in_flight() < static_cast<int>(q.slots.size()) &&
        feed(queue)) {
      start = q.pace.next_start();
    }
    return start;
  }

  // Closed loop: the queue's deployments in turn generate until the queue has a page.
  // When none can (their other queues are full, or their scenario is spent), the queue
  // waits for the next answer of any queue to try again.
  bool feed(std::uint32_t queue) {
    auto& q = queues[queue];
    bool any_left = false;
    for (std::size_t tries = 0; tries < q.feeders.size(); ++tries) {
      const std::uint32_t d = q.feeders[q.next_feeder];
      q.next_feeder = (q.next_feeder + 1) % q.feeders.size();
      if (deployments[d].spent) continue;
      any_left = true;
      if (feed_from(d, queue)) return true;
    }
    if (any_left && !q.hungry) {
      q.hungry = true;
      hungry.push_back(queue);
    }
    return false;
  }

  // Generates the deployment's events step by step (scenario time, from closed_step; a
  // step that finds none doubles, up to a second) until the queue has a page: each of
  // its streams cuts its full pages, or everything it holds when it cut none for
  // closed_wait of scenario time, so that a quiet stream's rows still go.
  // Stops, false, when another queue of the deployment has a page waiting per slot: the
  // deployment's traffic goes out in its mix, at the pace of its slowest queue, and
  // memory holds a few pages per queue.
  bool feed_from(std::uint32_t d, std::uint32_t queue) {
    auto& dep = deployments[d];
    auto& q = queues[queue];
    const millis end = model.generation_end();
    while (q.pace.backlog_pages() == 0) {
      for (auto local : dep.local_stream) {
        if (local < 0) continue;
        const auto& other = queues[streams[static_cast<std::size_t>(local)].queue];
        if (&other != &q && other.pace.backlog_pages() >= other.slots.size()) return false;
      }
      if (dep.generated_to >= end) {
        // Spent: what waits goes as it is.
        dep.spent = true;
        for (auto local : dep.local_stream) {
          if (local >= 0) cut_pages(streams[static_cast<std::size_t>(local)], end);
        }
        return q.pace.backlog_pages() > 0;
      }
      const millis to = std::min(end, dep.generated_to + dep.step);
      const auto before = stats.events_generated;
      generate(dep, to);
      dep.generated_to = to;
      dep.step =
          stats.events_generated > before ? closed_step : std::min<millis>(dep.step * 2, 1'000);
      for (auto local : dep.local_stream) {
        if (local < 0) continue;
        auto& s = streams[static_cast<std::size_t>(local)];
        const bool tick = to - s.last_cut >= closed_wait;
        cut_pages(s, to, !tick);
        if (tick || !pages.empty()) s.last_cut = to;
        if (!pages.empty() && s.queue != queue) wake_now(s.queue);
      }
    }
    return true;
  }

  // Another queue got pages while this one was fed: it sends them at once, from the
  // agenda rather than from here (no feeding within a feed). Without it they waited for
  // that queue's next answer while its free slot idled (2.4 s against an Express receiver).
  void wake_now(std::uint32_t queue) {
    auto& q = queues[queue];
    const millis now = time.now();
    if (q.wake_at == no_time || q.wake_at > now) {
      q.wake_at = now;
      sends.push({now, queue});
    }
  }

  // Closed loop, at its end: generation stops, and every stream's rows go out as they
  // are (the final flush), paced as ever.
  void end_closed_loop() {
    closed_ended = true;
    hungry.clear();
    for (std::size_t i = 0; i < streams.size(); ++i) {
      cut_pages(streams[i], deployments[stream_deployment[i]].generated_to);
    }
    for (std::uint32_t q = 0; q < queues.size(); ++q) try_send(q);
  }

  // Closed loop: the queues that waited to be fed try again (an answer freed a slot, and
  // maybe the pages that crowded them out).
  void feed_hungry() {
    std::vector<std::uint32_t> waiting;
    waiting.swap(hungry);
    for (auto queue : waiting) {
      queues[queue].hungry = false;
      try_send(queue);
    }
  }

  void try_send(std::uint32_t queue) {
    auto& q = queues[queue];
    if (q.sending) return;
    q.sending = true;
    while (auto start = next_start(queue)) {
      const millis now = time.now();
      // One reading of the clock is both the start recorded and the one the next gap is
      // kept from. On the simulated clock it is a whole millisecond and the pacer's
      // rule is the same as this one, so nothing is ever held there.
      const std::int64_t started_us = time.real_now_us();
      const std::int64_t gate_us = q.last_start_us + min_gap_us;
      if (*start > now || started_us < gate_us) {
        if (gate_us > time.real_at_us(*start)) {
          const real_us gate{gate_us};
          if (q.hold_until == no_hold || q.hold_until > gate) {
            q.hold_until = gate;
            holds.push({gate, queue});
          }
        } else if (q.wake_at == no_time || q.wake_at > *start) {
          q.wake_at = *start;
          sends.push({*start, queue});
        }
        break;
      }
      q.last_start_us = started_us;
      auto released = q.pace.start(now);
      queued_rows -= static_cast<std::int64_t>(released.body.row_count());
      take_back(released.body);
      auto slot_index =
          static_cast<std::uint32_t>(std::find_if(q.slots.begin(), q.slots.end(),
                                                  [](const request_slot& r) { return !r.busy; }) -
                                     q.slots.begin());
      request_slot& slot = q.slots[slot_index];
      slot.busy = true;
      slot.stream = local_stream(released.body.stream);
      slot.body_page = std::move(released.body);
      // A closed loop waits for the receiver by design (as wrk): a page cut for a busy
      // queue was due when a slot freed, and latency counts from its start.
      slot.intended = closed ? std::max(released.intended, now) : released.intended;
      if (!spare_bodies.empty()) {
        slot.body = std::move(spare_bodies.back());
        spare_bodies.pop_back();
      }
      setup.body_encoder->encode(slot.body_page, slot.body);
      slot.started_us = started_us;
      stats.page_rows.record(static_cast<std::int64_t>(slot.body_page.rows.size()));
      stats.page_bytes.record(static_cast<std::int64_t>(slot.body.size()));
      stats.send_delay_us.record(slot.started_us - time.real_at_us(slot.intended));
      stats.record_start_delay(started_us -
                               std::max({time.real_at_us(*start), gate_us, q.unblocked_us}));
      stats.requests_by_type[static_cast<int>(streams[slot.stream].info.type)] += 1;
      requests_in_flight += 1;
      stats.in_flight_peak = std::max<std::int64_t>(stats.in_flight_peak, requests_in_flight);
      slot.sent_us = time.real_now_us();
      sender.send(queue, slot_index, slot.body);
    }
    q.sending = false;
  }

  void complete(std::uint32_t queue, std::uint32_t slot_index, const request_outcome& answer,
                std::int64_t started_us, std::int64_t finished_us) {
    // GMetri "expects a response code of 200": with delivery.success "200", another 2xx
    // is a rejection like any other status.
    request_outcome not_200;
    const bool only_200 = model.settings().delivery.success == success_status::only_200;
    if (only_200 && answer.kind == outcome_kind::delivered && answer.status != 200) {
      not_200 = request_outcome{outcome_kind::rejected, answer.status, failure_kind::none,
                                "a 2xx other than 200 (delivery.success \"200\")"};
    }
    const request_outcome& outcome = not_200.kind == outcome_kind::rejected ? not_200 : answer;
    auto& q = queues[queue];
    request_slot& slot = q.slots[slot_index];
    const auto& s = streams[slot.stream];
    const auto rows = static_cast<std::int64_t>(slot.body_page.rows.size());
    // An auth probe is a check of its own, not traffic: its answer is the verdict on the
    // receiver's auth, and a refusal (the right answer) loses no rows.
    const bool probe = model.has_auth_cases() &&
                       model.auth_of(s.info.index, slot.body_page.ready) != request_auth::normal;
    const auto bytes = static_cast<std::int64_t>(slot.body.size());
    const std::int64_t latency_us = finished_us - time.real_at_us(slot.intended);
    if (probe) {
      stats.count_probe(outcome, rows, bytes);
    } else {
      stats.count_answer(outcome, s.info.type, rows, bytes, latency_us, finished_us - started_us);
      stats.over_time.record_request(time.now(), outcome, rows, bytes, latency_us);
    }
    stats.last_answer_ms = std::max(stats.last_answer_ms, time.now());
    // A closed loop's lag says nothing: its scenario runs at the receiver's pace.
    if (outcome.kind == outcome_kind::delivered && !probe && !closed) {
      const millis now = time.now();
      for (const auto& row : slot.body_page.rows) stats.record_lag(now - row.oldest);
    }
    if (setup.ledgers != nullptr) {
      setup.ledgers->request_ended(s.info, slot.body_page, slot.intended, outcome, slot.started_us,
                                   finished_us - started_us, slot.body, probe);
    }
    if (q.pace.in_flight() == static_cast<int>(q.slots.size())) q.unblocked_us = finished_us;
    slot.busy = false;
    // An idle slot holds nothing: its body's buffer goes to the next request of any
    // stream, so a run keeps as many buffers as it had requests in flight at once.
    spare_bodies.push_back(std::move(slot.body));
    slot.body_page = page{};
    q.pace.finish();
    requests_in_flight -= 1;
    assert(requests_in_flight >= 0);  // one complete() per send()
    if (!stopped) {
      try_send(queue);
      if (!hungry.empty()) feed_hungry();
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
    checks.clear();
    hungry.clear();
    for (auto& q : queues) drain_unsent(q);
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
      cut_tick(w.unit, w.t);
      drain_unsent(queues[streams[w.unit].queue]);
    }
    ticks.clear();
    // A closed loop generated ahead of the clock already: nothing more happened.
    if (!closed) {
      for (auto& dep : deployments) generate(dep, stop_time);
    }
    for (auto& s : streams) {
      cut_pages(s, stop_time);
      drain_unsent(queues[s.queue]);
    }
  }

  // A queued page leaves its queue: into memory again when it waited on disk, or, when
  // it is counted and not read (unread), its place on disk given up.
  void take_back(page& p, bool unread = false) {
    if (p.spilled_rows == 0) {
      memory_rows -= static_cast<std::int64_t>(p.rows.size());
    } else if (unread) {
      spill.discard(p);
    } else {
      spill.load(p);
    }
  }

  void drop_oldest(queue_state& q) {
    static const request_outcome dropped{
        outcome_kind::unsent, 0, failure_kind::none,
        "dropped: gmsim's queues held delivery.max_queued_rows (its memory bound)"};
    page p = q.pace.drop_oldest();
    const auto rows = static_cast<std::int64_t>(p.row_count());
    queued_rows -= rows;
    take_back(p);  // the ledger lists its rows
    const auto& s = streams[local_stream(p.stream)];
    stats.count_unsent(s.info.type, rows);
    stats.requests_dropped += 1;
    stats.rows_dropped += rows;
    stats.over_time.record_unsent(time.now(), rows);
    if (setup.ledgers != nullptr) setup.ledgers->page_unsent(s.info, p, time.now(), dropped);
  }

  // Every page queued on q becomes unsent, at the stop.
  void drain_unsent(queue_state& q) {
    static const request_outcome unsent{outcome_kind::unsent, 0, failure_kind::none,
                                        "the run stopped first"};
    queued_rows -= static_cast<std::int64_t>(q.pace.backlog_rows());
    for (auto& p : q.pace.drain()) {
      const auto& s = streams[local_stream(p.stream)];
      auto rows = static_cast<std::int64_t>(p.row_count());
      // Read back only for the ledger, which lists each row; the counts need none.
      if (setup.ledgers != nullptr) {
        take_back(p);
      } else {
        take_back(p, /*unread=*/true);
      }
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
  std::vector<queue_state> queues;
  std::vector<std::uint32_t> stream_deployment;  // local stream -> local deployment
  agenda<millis> ticks;   // when each stream's next flush tick falls
  agenda<millis> sends;   // when the pacer lets a queue's next page go
  agenda<real_us> holds;  // when the gap since a queue's last real start is over
  agenda<millis> checks;  // delivery.flush eager: when each deployment is next looked at
  millis eager_step = 0;
  std::int64_t queued_rows = 0;      // in every queue's backlog
  std::int64_t queued_rows_cap = 1;  // this engine's share of delivery.max_queued_rows
  // Of queued_rows, those in memory, and this engine's share of delivery.queue_memory_rows:
  // past it, pages wait on disk.
  std::int64_t memory_rows = 0;
  std::int64_t memory_rows_cap = 1;
  page_spill spill{setup.spill_dir};
  bool latest_event = false;         // session.modified_at latest_event
  std::int64_t min_gap_us = 0;
  bool stopped = false;
  millis stop_time = 0;
  bool accounted_until_stop = false;
  // delivery.loop closed: fed on demand until setup.closed_loop_end (then ended).
  static constexpr millis closed_step = 10;
  // How long a stream's rows wait for a full page, in scenario time: GMetri's longest
  // delay, or max_delay when longer. Full pages go at once; this only keeps a stream
  // that never fills one (few viewers, a rare type) from holding its rows for ever.
  millis closed_wait = 60'000;
  bool closed = false;
  bool closed_ended = false;
  std::vector<std::uint32_t> hungry;  // queues waiting to be fed
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
  if (impl_->feeding()) next = impl_->setup.closed_loop_end;
  if (!impl_->stopped && !impl_->ticks.empty())
    next = next ? std::min(*next, impl_->ticks.front()) : impl_->ticks.front();
  if (!impl_->stopped && !impl_->checks.empty())
    next = next ? std::min(*next, impl_->checks.front()) : impl_->checks.front();
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

void engine::complete(std::uint32_t queue, std::uint32_t slot, const request_outcome& outcome,
                      std::int64_t finished_us) {
  impl_->complete(queue, slot, outcome, impl_->queues[queue].slots[slot].sent_us, finished_us);
}

void engine::stop() { impl_->stop(); }

bool engine::done() const {
  if (impl_->feeding() || !impl_->ticks.empty() || !impl_->checks.empty() ||
      !impl_->sends.empty() || !impl_->holds.empty()) {
    return false;
  }
  return std::all_of(impl_->queues.begin(), impl_->queues.end(),
                     [](const queue_state& q) { return q.pace.idle(); });
}

std::size_t engine::stream_count() const { return impl_->streams.size(); }
std::size_t engine::queue_count() const { return impl_->queues.size(); }

std::size_t engine::backlog_rows() const {
  std::size_t n = 0;
  for (const auto& q : impl_->queues) n += q.pace.backlog_rows();
  for (const auto& s : impl_->streams) n += s.rows.pending_events();
  return n;
}

int engine::in_flight() const { return impl_->requests_in_flight; }

void engine::bound_queued_rows(std::int64_t rows, std::int64_t memory_rows) {
  impl_->queued_rows_cap = std::max<std::int64_t>(1, rows);
  impl_->memory_rows_cap = std::max<std::int64_t>(1, memory_rows);
}

void bound_queues(const std::vector<engine*>& engines, const delivery_spec& delivery) {
  std::size_t total = 0;
  for (const engine* e : engines) total += e->queue_count();
  if (total == 0) return;
  for (engine* e : engines) {
    const double share = static_cast<double>(e->queue_count()) / static_cast<double>(total);
    e->bound_queued_rows(
        static_cast<std::int64_t>(static_cast<double>(delivery.max_queued_rows) * share),
        static_cast<std::int64_t>(static_cast<double>(delivery.queue_memory_rows) * share));
  }
}

request_auth engine::auth_of(std::uint32_t queue, std::uint32_t slot) const {
  const auto& r = impl_->queues[queue].slots[slot];
  return impl_->model.auth_of(impl_->streams[r.stream].info.index, r.body_page.ready);
}

std::uint32_t engine::stream_of(std::uint32_t queue, std::uint32_t slot) const {
  return impl_->streams[impl_->queues[queue].slots[slot].stream].info.index;
}

void run_simulated(engine& e, simulated_clock& time, const std::atomic<int>* stop) {
  bool stopped = false;
  while (auto t = e.next_wakeup()) {
    if (stop != nullptr && !stopped && stop->load(std::memory_order_relaxed) != 0) {
      stopped = true;
      e.stop();
      continue;
    }
    time.set(*t);
    e.run_due();
  }
  if (!e.done()) {
    check_accounting(e.stats(), std::max<std::int64_t>(1, static_cast<std::int64_t>(e.backlog_rows())));
  }
}

}  // namespace gmsim
