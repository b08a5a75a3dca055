#include "scenario/generator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/random.hpp"
#include "scenario/sampling.hpp"

namespace gmsim {

// A calendar queue. A session draws all its events when it begins; each goes to the
// bucket of its block of time (block_ms wide), so a bucket holds its events session by
// session, in the order the sessions began. When the output reaches a block, every
// session beginning in that block is started first (their events may fall in it), then
// the bucket is sorted by time with a stable counting sort, and a session's events at
// one ms are put in their order: (t, session, event), the order in which a heap of
// sessions in progress would emit them, read from one contiguous array instead of one
// cache miss per event across the sessions.
struct deployment_generator::state {
  static constexpr int block_shift = 10;  // blocks of 1,024 ms
  static constexpr millis block_ms = millis{1} << block_shift;
  // The ring holds as many blocks as the longest session yet needs, in powers of two up
  // to max_ring_size (1 s sessions: 2 blocks).
  static constexpr std::size_t first_ring_size = 2;
  static constexpr std::size_t max_ring_size = 128;   // about 2 minutes; farther: far
  static constexpr std::size_t small_block = 24;      // sorted by insertion up to this
  static constexpr std::size_t one_pass_block = 256;  // from this, one pass of 1,025

  const scenario& model;
  std::uint32_t deployment;
  const deployment_info& info;
  const std::vector<event>* script = nullptr;  // injected edge-case events, in time order
  std::size_t script_next = 0;
  rng arrivals;
  double cumulative_target = 0;  // in profile-wide expected sessions
  double next_arrival = -1;      // ms, negative when no more arrivals
  std::uint64_t started = 0;
  millis generated_until = 0;

  // ring[b & (ring.size() - 1)] holds block b's events for b in [base, base + ring.size()).
  std::vector<std::vector<event>> ring;
  std::int64_t base = 0;     // the first block not yet sorted into ready
  std::size_t pending = 0;   // events in the ring
  // Events past the ring, a min-heap on (block, order drawn): they enter their bucket
  // when the ring reaches their block, before any later session's, so a bucket is still
  // in the order drawn. Memory stays with the events pending however long the sessions.
  struct far_event {
    std::int64_t block;
    std::uint64_t drawn;  // a count of far events: the order they were drawn in
    event e;
    bool operator>(const far_event& o) const {
      return block != o.block ? block > o.block : drawn > o.drawn;
    }
  };
  std::vector<far_event> far;
  std::uint64_t far_drawn = 0;
  std::vector<event> ready;  // block base - 1, in time order
  std::size_t ready_next = 0;
  // Sessions counted so far are those that began before generated_until, whatever was
  // drawn ahead: started_before_ready, plus those of ready's block that began before it.
  std::uint64_t started_before_ready = 0;
  std::vector<millis> ready_arrivals;  // the beginnings in ready's block, in order

  state(const scenario& m, std::uint32_t d)
      : model(m), deployment(d), info(m.deployments()[d]), arrivals(mix64(info.seed, 0xa221)) {
    if (auto found = m.edges_.scripts.find(d); found != m.edges_.scripts.end()) script = &found->second;
    if (model.settings().arrival.process == arrival_process::constant) {
      // A seeded phase, so that deployments with equal rates do not start together.
      cumulative_target = arrivals.unit() * share_inverse();
    } else {
      cumulative_target = arrivals.exponential() * share_inverse();
    }
    next_arrival = info.rate_share > 0 ? model.time_of_cumulative(cumulative_target) : -1;
  }

  double share_inverse() const { return info.rate_share > 0 ? 1.0 / info.rate_share : 0; }

  // The next session's beginning in whole ms, or -1 when no session begins any more.
  millis arrival() const {
    if (next_arrival < 0) return -1;
    auto at = static_cast<millis>(next_arrival);
    return at < model.generation_end() ? at : -1;
  }

  void advance_arrival() {
    double step = model.settings().arrival.process == arrival_process::constant
                      ? 1.0
                      : arrivals.exponential();
    cumulative_target += step * share_inverse();
    next_arrival = model.time_of_cumulative(cumulative_target);
  }

  // Makes the ring hold blocks up to last (from base), or as far as it may.
  void reach(std::int64_t last) {
    auto need = static_cast<std::size_t>(std::min<std::int64_t>(last - base + 1, max_ring_size));
    if (need <= ring.size()) return;
    std::size_t size = std::max(first_ring_size, ring.size());
    while (size < need) size *= 2;
    std::vector<std::vector<event>> grown(size);
    for (std::size_t i = 0; i < ring.size(); ++i) {
      auto b = static_cast<std::size_t>(base) + i;
      grown[b & (size - 1)] = std::move(ring[b & (ring.size() - 1)]);
    }
    ring = std::move(grown);
    take_far();
  }

  std::int64_t ring_end() const { return base + static_cast<std::int64_t>(ring.size()); }

  // Moves the far events whose block the ring now holds into their buckets. Called
  // whenever the ring's end moves, before any session draws into the new blocks.
  void take_far() {
    if (far.empty()) return;  // and so while the ring is still empty
    const std::int64_t end = ring_end();
    const std::size_t mask = ring.size() - 1;
    while (!far.empty() && far.front().block < end) {
      std::pop_heap(far.begin(), far.end(), std::greater<>());
      ring[static_cast<std::size_t>(far.back().block) & mask].push_back(far.back().e);
      far.pop_back();
      ++pending;
    }
  }

  void start_session(millis at) {
    const auto& p = model.settings();
    const auto& spec = p.session;
    std::uint64_t ordinal = started++;
    rng random(mix64(info.seed, ordinal + 1));
    auto viewer = static_cast<std::uint32_t>(random.below(p.viewers.count));
    millis length = std::max<millis>(0, std::llround(sample(spec.length_ms, random)));
    millis end = at + length;
    // Every event is within [at, end], and before the run's end.
    reach(std::min(end, model.generation_end() - 1) >> block_shift);
    const std::size_t mask = ring.size() - 1;
    const std::int64_t near_end = ring_end();
    const auto tag = static_cast<std::uint32_t>(ordinal);
    // Each event goes straight to its block's bucket. Within a bucket the session's
    // events are together, after those of older sessions: the block's counting sort
    // keeps that, and its events at one ms are put in order there (in_session_order).
    auto add = [&](millis t, webhook_type type, std::uint32_t item, std::uint64_t payload) {
      if (t >= model.generation_end()) return;  // the run is over before the viewer gets there
      // Rules carry their timestamp in `created`: edge cases write other times than t.
      const event e{t, type == webhook_type::rules ? t : at, payload, viewer, item, type, tag};
      const std::int64_t block = t >> block_shift;
      if (block < near_end) {
        ring[static_cast<std::size_t>(block) & mask].push_back(e);
        ++pending;
      } else {
        far.push_back(far_event{block, far_drawn++, e});
        std::push_heap(far.begin(), far.end(), std::greater<>());
      }
    };
    auto within = [&]() { return at + static_cast<millis>(random.below(length + 1)); };
    if (info.types[static_cast<int>(webhook_type::session)]) {
      add(at, webhook_type::session, 0, ordinal);
      if (spec.send_on_end) add(end, webhook_type::session, 0, ordinal);
    }
    if (!spec.scenes.empty()) {
      walk_script(at, length, random, add);
      return;
    }
    if (info.types[static_cast<int>(webhook_type::variables)]) {
      for (std::uint32_t v = 0; v < model.organic_variables_; ++v) {
        const auto& var = spec.variables[v];
        auto changes = random.between(var.changes_min, var.changes_max);
        for (std::int64_t c = 0; c < changes; ++c) {
          millis t = var.when == change_timing::start ? at
                     : var.when == change_timing::end ? end
                                                      : within();
          add(t, webhook_type::variables, v, random.next());
        }
      }
    }
    if (info.types[static_cast<int>(webhook_type::rules)]) {
      for (std::uint32_t r = 0; r < model.organic_rules_; ++r) {
        const auto& rule = spec.rules[r];
        if (random.unit() >= rule.probability) continue;
        auto times = random.between(1, rule.repeat_max);
        for (std::int64_t k = 0; k < times; ++k) {
          millis t = within();
          add(t, webhook_type::rules, r, random.below(std::max<std::size_t>(1, rule.scenes.size())));
        }
      }
    }
  }

  // A session that follows the experience script (session.scenes): it walks the scenes
  // in order, each taking its share of the length; a variable keeps to its scene; a rule
  // fires in its scenes (or as each is entered), and only once what it needs holds: a
  // variable's final value in the session (after it was set), another rule's firing
  // (after its first). The draws are made whether or not a type is sent, so that a
  // deployment's variables do not depend on its rules being sent, and the reverse.
  template <class Add>
  void walk_script(millis at, millis length, rng& random, Add&& add) {
    const auto& spec = model.settings().session;
    const auto& cuts = model.scene_cuts_;
    const std::size_t scenes = spec.scenes.size();
    const millis end = at + length;
    auto begins = [&](std::size_t i) {
      return i == scenes ? end : at + static_cast<millis>(std::llround(length * cuts[i]));
    };
    // A scene's ms, inclusive: from its entry to the ms before the next one's.
    auto window = [&](std::size_t i) {
      return std::pair<millis, millis>{
          begins(i), std::max(begins(i), i + 1 == scenes ? end : begins(i + 1) - 1)};
    };
    const bool send_variables = info.types[static_cast<int>(webhook_type::variables)];
    const bool send_rules = info.types[static_cast<int>(webhook_type::rules)];
    // Each variable's final change in the session: (t, value seed); t < 0 when never set.
    auto& last = script_last_;
    last.assign(model.organic_variables_, {-1, 0});
    for (std::uint32_t v = 0; v < model.organic_variables_; ++v) {
      const auto& var = spec.variables[v];
      if (var.value.type == value_spec::kind::scene) {
        for (std::size_t i = 0; i < scenes; ++i) {
          if (send_variables) add(begins(i), webhook_type::variables, v, i);
          last[v] = {begins(i), i};
        }
        continue;
      }
      const auto [lo, hi] = var.scene >= 0 ? window(static_cast<std::size_t>(var.scene))
                                           : std::pair<millis, millis>{at, end};
      const auto changes = random.between(var.changes_min, var.changes_max);
      for (std::int64_t c = 0; c < changes; ++c) {
        const millis t = var.when == change_timing::start ? lo
                         : var.when == change_timing::end
                             ? hi
                             : lo + static_cast<millis>(random.below(hi - lo + 1));
        const std::uint64_t value = random.next();
        if (send_variables) add(t, webhook_type::variables, v, value);
        // The receiver keeps the last change: at one ms, the larger seed (in_session_order).
        if (std::pair{t, value} > std::pair{last[v].first, last[v].second}) last[v] = {t, value};
      }
    }
    auto& first_fired = script_fired_;
    first_fired.assign(model.organic_rules_, -1);
    for (std::uint32_t r = 0; r < model.organic_rules_; ++r) {
      const auto& rule = spec.rules[r];
      if (random.unit() >= rule.probability) continue;
      auto fire = [&](millis t, std::uint64_t scene) {
        if (send_rules) add(t, webhook_type::rules, r, scene);
        if (first_fired[r] < 0 || t < first_fired[r]) first_fired[r] = t;
      };
      if (rule.on == rule_trigger::enter) {
        for (std::size_t k = 0; k < rule.scene_index.size(); ++k) {
          fire(begins(static_cast<std::size_t>(rule.scene_index[k])), k);
        }
        continue;
      }
      millis earliest = at;
      if (rule.if_variable >= 0) {
        const auto [t, value] = last[static_cast<std::size_t>(rule.if_variable)];
        if (t < 0 || model.value_text(static_cast<std::uint32_t>(rule.if_variable), value) !=
                         rule.if_equals_json) {
          continue;
        }
        earliest = std::max(earliest, t + 1);
      }
      if (rule.after_rule >= 0) {
        const millis before = first_fired[static_cast<std::size_t>(rule.after_rule)];
        if (before < 0) continue;
        earliest = std::max(earliest, before + 1);
      }
      const auto times = random.between(1, rule.repeat_max);
      for (std::int64_t k = 0; k < times; ++k) {
        const auto pick = random.below(std::max<std::size_t>(1, rule.scene_index.size()));
        auto [lo, hi] = rule.scene_index.empty()
                            ? std::pair<millis, millis>{at, end}
                            : window(static_cast<std::size_t>(rule.scene_index[pick]));
        lo = std::max(lo, earliest);
        if (lo > hi) continue;  // its scene was over before its condition held
        fire(lo + static_cast<millis>(random.below(hi - lo + 1)), pick);
      }
    }
  }

  // Scratch of walk_script, kept for its capacity.
  std::vector<std::pair<millis, std::uint64_t>> script_last_;
  std::vector<millis> script_fired_;

  // A session's events at one ms: its creation first, then by item and payload. A total
  // order on the fields, so the sequence does not depend on the sort algorithm.
  static bool in_session_order(const event& a, const event& b) {
    if (a.type != b.type) return a.type > b.type;  // a session's creation first
    if (a.item != b.item) return a.item < b.item;
    return a.payload < b.payload;
  }

  // Sorts a block's events (from first) into ready by time, stably, then each session's
  // events at one ms by in_session_order. A counting sort on the ms within the block
  // clears and sums block_ms counters, which a few hundred events outweigh; a sparser
  // block sorts in two passes of 32 counters, a handful by insertion.
  void sort_block(const std::vector<event>& bucket, millis first) {
    const std::size_t n = bucket.size();
    ready.resize(n);
    if (n <= small_block) {
      // A few events: an insertion sort, stable, with no counters to clear.
      for (std::size_t i = 0; i < n; ++i) {
        std::size_t j = i;
        while (j > 0 && ready[j - 1].t > bucket[i].t) {
          ready[j] = ready[j - 1];
          --j;
        }
        ready[j] = bucket[i];
      }
    } else if (n >= one_pass_block) {
      counting_pass<block_shift>(bucket, ready, first, 0);
    } else {
      // Two passes of 32 counters, the low half of the ms first.
      constexpr int half = block_shift / 2;
      static_assert(block_shift % 2 == 0);
      thread_local std::vector<event> half_sorted;  // the first pass's output
      half_sorted.resize(n);
      counting_pass<half>(bucket, half_sorted, first, 0);
      counting_pass<half>(half_sorted, ready, first, half);
    }
    // Where one session has several events at one ms (its end, say: the session's and
    // a variable's), they are side by side and in the order drawn: put them in order.
    for (std::size_t i = 0; i + 1 < n;) {
      std::size_t j = i + 1;
      while (j < n && ready[j].t == ready[i].t && ready[j].session_tag == ready[i].session_tag) ++j;
      if (j - i > 1) {
        std::sort(ready.begin() + static_cast<std::ptrdiff_t>(i),
                  ready.begin() + static_cast<std::ptrdiff_t>(j), in_session_order);
      }
      i = j;
    }
  }

  // One stable counting pass of events (from first) on `bits` bits of their ms within
  // the block, from bit `shift`: to must have from's size.
  template <int bits>
  static void counting_pass(const std::vector<event>& from, std::vector<event>& to, millis first,
                            int shift) {
    constexpr std::size_t digits = std::size_t{1} << bits;
    auto digit = [&](const event& e) {
      return (static_cast<std::size_t>(e.t - first) >> shift) & (digits - 1);
    };
    std::array<std::uint32_t, digits + 1> count{};
    for (const event& e : from) ++count[digit(e) + 1];
    for (std::size_t i = 1; i <= digits; ++i) count[i] += count[i - 1];
    for (const event& e : from) to[count[digit(e)]++] = e;
  }

  // Starts the sessions that begin in block k and sorts its events into ready. Blocks
  // before k are done, and those from base to k are empty when base < k.
  void open_block(std::int64_t k) {
    if (pending == 0 && base < k) {
      // Nothing in the ring: it moves to k freely, and takes the far events it now holds
      // before any session of block k draws.
      base = k;
      take_far();
    }
    started_before_ready = started;
    ready_arrivals.clear();
    const millis block_end = (k + 1) << block_shift;
    for (millis at = arrival(); at >= 0 && at < block_end; at = arrival()) {
      // Arrivals never go back in time, but a float an ulp short of a whole ms must not
      // put events in a block already sorted (whose bucket now holds a later block), nor
      // unsort ready_arrivals (sessions_started() would then go down).
      at = std::max(at, ready_arrivals.empty() ? k << block_shift : ready_arrivals.back());
      ready_arrivals.push_back(at);
      start_session(at);
      advance_arrival();
    }
    ready.clear();
    ready_next = 0;
    if (!ring.empty()) {
      auto& bucket = ring[static_cast<std::size_t>(k) & (ring.size() - 1)];
      if (!bucket.empty()) {
        sort_block(bucket, k << block_shift);
        pending -= bucket.size();
        // The bucket is next used for block k + ring.size(), and fills again from its
        // first event. Its storage goes back to the heap, for the buckets filling now:
        // each bucket keeping its fullest block's capacity held 3 times the events
        // pending (stress: 19 MB for 6 MB), and the run touched all of it.
        std::vector<event>().swap(bucket);
      }
    }
    base = k + 1;
    take_far();
  }

  // Appends ready's events and the script's with t < to, in time order (at equal times,
  // the sessions' events first, as the script's come after every session in progress).
  void emit(millis to, std::vector<event>& out) {
    const bool scripted = script != nullptr && script_next < script->size();
    if (!scripted) {
      auto last = ready_next;
      while (last < ready.size() && ready[last].t < to) ++last;
      out.insert(out.end(), ready.begin() + static_cast<std::ptrdiff_t>(ready_next),
                 ready.begin() + static_cast<std::ptrdiff_t>(last));
      ready_next = last;
      return;
    }
    for (;;) {
      bool have_event = ready_next < ready.size() && ready[ready_next].t < to;
      bool have_script = script_next < script->size() && (*script)[script_next].t < to;
      if (!have_event && !have_script) return;
      if (have_script && (!have_event || (*script)[script_next].t < ready[ready_next].t)) {
        out.push_back((*script)[script_next++]);
      } else {
        out.push_back(ready[ready_next++]);
      }
    }
  }
};

deployment_generator::deployment_generator(const scenario& model, std::uint32_t deployment)
    : state_(std::make_unique<state>(model, deployment)) {}
deployment_generator::~deployment_generator() = default;
deployment_generator::deployment_generator(deployment_generator&&) noexcept = default;

std::uint64_t deployment_generator::sessions_started() const {
  const state& s = *state_;
  auto begun =
      std::lower_bound(s.ready_arrivals.begin(), s.ready_arrivals.end(), s.generated_until);
  return s.started_before_ready + static_cast<std::uint64_t>(begun - s.ready_arrivals.begin());
}

void deployment_generator::generate_until(millis until, std::vector<event>& out) {
  state& s = *state_;
  until = std::min(until, s.model.generation_end());
  if (until <= s.generated_until) return;
  millis from = s.generated_until;
  s.generated_until = until;
  while (from < until) {
    std::int64_t k = from >> state::block_shift;
    if (k >= s.base) {
      // Nothing in the ring, and no session or far event before a later block: skip to
      // it (a quiet deployment, or the edge cases' own with its script only).
      if (s.pending == 0) {
        millis at = s.arrival();
        std::int64_t next =
            at >= 0 ? at >> state::block_shift : std::numeric_limits<std::int64_t>::max();
        if (!s.far.empty()) next = std::min(next, s.far.front().block);
        if (next > k) {
          millis to = next <= (until >> state::block_shift) ? next << state::block_shift : until;
          s.emit(to, out);
          from = to;
          continue;
        }
      }
      s.open_block(k);
    }
    millis to = std::min(until, (k + 1) << state::block_shift);
    s.emit(to, out);
    from = to;
  }
}

}  // namespace gmsim
