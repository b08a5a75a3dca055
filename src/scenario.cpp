#include "gmsim/scenario.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "gmsim/json_writer.hpp"
#include "hex_text.hpp"
#include "random.hpp"

namespace gmsim {
namespace {

constexpr std::string_view first_names[] = {
    "aarav", "priya", "rahul", "ananya", "vikram", "sara",   "li",    "wei",  "maria", "jose",
    "emma",  "liam",  "olivia", "noah",  "fatima", "omar",   "yuki",  "hana", "lucas", "sofia",
    "amara", "kwame", "ines",  "mateo",  "chloe",  "arjun",  "meera", "ivan", "olga",  "zara"};
constexpr std::string_view last_names[] = {
    "sharma", "patel", "singh", "iyer",   "chen",  "wang",  "garcia", "lopez", "smith", "jones",
    "brown",  "kim",   "park",  "tanaka", "sato",  "khan",  "ali",    "silva", "rossi", "muller",
    "dubois", "okafor", "mensah", "novak", "ivanova", "nair", "gupta", "reddy", "das", "bose"};

// Letters from several scripts, each a valid UTF-8 sequence needing no JSON escape.
constexpr std::string_view unicode_letters[] = {
    "a", "z", "0", "é", "ß", "ñ", "ж", "я", "α", "ω", "中", "文", "日", "本", "한",
    "글", "ا", "ب", "ע", "ש", "अ", "क", "ก", "😀", "🎯", "𝄞", "ü", "ø", "ç", "Ω"};

// Writes the last `digits` (1 to 16) hex digits of value.
void write_hex(json_writer& out, std::uint64_t value, int digits) {
  out.commit(hex_text::put(out.claim(16), value, digits));
}

void write_uuid(json_writer& out, std::uint64_t hi, std::uint64_t lo) {
  // Version 4, variant 1, as a random UUID would be.
  hi = (hi & 0xffffffffffff0fffull) | 0x0000000000004000ull;
  lo = (lo & 0x3fffffffffffffffull) | 0x8000000000000000ull;
  out.commit(hex_text::put_uuid(out.claim(36), hi, lo));
}

double sample(const number_distribution& d, rng& random) {
  double v = 0;
  switch (d.kind) {
    case distribution_kind::constant:
      return d.mean;
    case distribution_kind::uniform:
      return d.min + (d.max - d.min) * random.unit();
    case distribution_kind::normal:
      v = d.mean + d.stddev * random.normal();
      break;
    case distribution_kind::exponential:
      v = d.mean * random.exponential();
      break;
  }
  if (d.max > d.min) v = std::clamp(v, d.min, d.max);
  return v;
}

std::size_t pick_weighted(const std::vector<double>& weights, std::size_t count, rng& random) {
  if (weights.empty()) return static_cast<std::size_t>(random.below(count));
  double total = 0;
  for (double w : weights) total += w;
  double x = random.unit() * total;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    if (x < weights[i]) return i;
    x -= weights[i];
  }
  return weights.size() - 1;
}

void write_value_spec(json_writer& out, const value_spec& spec, std::uint64_t seed) {
  rng random(seed);
  switch (spec.type) {
    case value_spec::kind::integer: {
      if (spec.number.kind == distribution_kind::uniform) {
        out.integer(random.between(static_cast<std::int64_t>(std::ceil(spec.number.min)),
                                   static_cast<std::int64_t>(std::floor(spec.number.max))));
      } else {
        out.integer(static_cast<std::int64_t>(std::llround(sample(spec.number, random))));
      }
      return;
    }
    case value_spec::kind::floating: {
      double v = sample(spec.number, random);
      if (spec.decimals >= 0) {
        double scale = std::pow(10.0, spec.decimals);
        v = std::round(v * scale) / scale;
      }
      out.number(v);
      return;
    }
    case value_spec::kind::boolean:
      out.boolean(random.unit() < spec.p_true);
      return;
    case value_spec::kind::string: {
      const auto length = random.between(spec.min_length, spec.max_length);
      out.put('"');
      if (spec.unicode) {
        for (std::int64_t i = 0; i < length; ++i) {
          out.raw(unicode_letters[random.below(std::size(unicode_letters))]);
        }
      } else {
        static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
        char* p = out.claim(static_cast<std::size_t>(length));
        for (std::int64_t i = 0; i < length; ++i) *p++ = alphabet[random.below(36)];
        out.commit(p);
      }
      out.put('"');
      return;
    }
    case value_spec::kind::enumeration:
      out.raw(spec.values_json[pick_weighted(spec.weights, spec.values_json.size(), random)]);
      return;
    case value_spec::kind::object: {
      out.put('{');
      std::uint64_t i = 0;
      for (const auto& [name, field] : spec.fields) {
        if (i != 0) out.put(',');
        out.key(name);
        write_value_spec(out, field, mix64(seed, ++i));
      }
      out.put('}');
      return;
    }
  }
}

// A scratch buffer per thread for identifiers that need escaping: the scenario is
// shared by the workers and must stay immutable.
std::string& identifier_buffer() {
  thread_local std::string buffer;
  return buffer;
}

}  // namespace

scenario::scenario(profile settings) : profile_(std::move(settings)) {
  const auto& p = profile_;
  if (p.orgs.empty()) throw profile_error(p.source + ": orgs: the profile has no organisations");
  if (p.viewers.count == 0) throw profile_error(p.source + ": viewers.count: must be at least 1");
  // Every timestamp of the run is start_time + t: the end must still be a four-digit year
  // (and far from overflowing), as the start is.
  if (p.duration > last_instant - p.start_time) {
    throw profile_error(p.source + ": duration: " + format_duration(p.duration) +
                        " from the start time " + format_iso8601(p.start_time) +
                        " ends after " + format_iso8601(last_instant));
  }
  if (!p.edge_cases.empty()) {
    // The cases get a deployment of their own, with no organic sessions, so that a case
    // owns its tick window (exact batch sizes) and is easy to find at the receiver.
    profile_.orgs.front().deployments.push_back(
        deployment_spec{"gmsim-edge-cases", {true, true, true}, 0.0});
  }
  organic_variables_ = static_cast<std::uint32_t>(p.session.variables.size());
  organic_rules_ = static_cast<std::uint32_t>(p.session.rules.size());
  double total_weight = 0;
  for (const auto& org : p.orgs) {
    for (const auto& dep : org.deployments) total_weight += dep.weight;
  }
  for (const auto& org : p.orgs) {
    for (const auto& dep : org.deployments) {
      deployment_info info;
      info.org_slug = org.slug;
      info.dep_slug = dep.slug;
      info.types = dep.types;
      info.seed = mix64(p.seed, hash_name(org.slug) ^ mix64(hash_name(dep.slug)));
      info.rate_share = total_weight > 0 ? dep.weight / total_weight : 0;
      auto index = static_cast<std::uint32_t>(deployments_.size());
      for (int t = 0; t < webhook_type_count; ++t) {
        if (!dep.types[t]) continue;
        stream_info stream;
        stream.index = static_cast<std::uint32_t>(streams_.size());
        stream.deployment = index;
        stream.type = static_cast<webhook_type>(t);
        stream.phase = p.delivery.align_ticks
                           ? 0
                           : static_cast<millis>(mix64(info.seed, t + 1) %
                                                 static_cast<std::uint64_t>(p.delivery.max_delay));
        streams_.push_back(stream);
      }
      deployments_.push_back(std::move(info));
    }
  }
  if (deployments_.empty()) throw profile_error(p.source + ": orgs: no deployments");
  if (!p.edge_cases.empty()) {
    try {
      edges_ = plan_edge_cases(p, streams_, static_cast<std::uint32_t>(deployments_.size() - 1), 0);
    } catch (const std::invalid_argument& e) {
      throw profile_error(p.source + ": edge_cases: " + e.what());
    }
    auto& session = profile_.session;
    session.variables.insert(session.variables.end(), edges_.variables.begin(), edges_.variables.end());
    session.rules.insert(session.rules.end(), edges_.rules.begin(), edges_.rules.end());
  }
  browsers_ = name_table(p.session.browsers);
  platforms_ = name_table(p.session.platforms);
  // Identifiers from the profile's text (domain, pattern) are escaped on every write
  // unless that text is plain ASCII, which it almost always is.
  auto plain = [](std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) {
      return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
    });
  };
  identifier_needs_escape_ = (p.viewers.kind == identifier_kind::email && !plain(p.viewers.domain)) ||
                             (p.viewers.kind == identifier_kind::custom && !plain(p.viewers.pattern));

  // Breakpoints of the rate: stage ends and spike edges, within the run.
  const double end = static_cast<double>(p.duration);
  std::vector<double> cuts{0, end};
  double t = 0;
  for (const auto& stage : p.arrival.stages) {
    t += static_cast<double>(stage.duration);
    if (t < end) cuts.push_back(t);
  }
  for (const auto& spike : p.arrival.spikes) {
    for (double edge : {static_cast<double>(spike.at), static_cast<double>(spike.at + spike.duration)}) {
      if (edge > 0 && edge < end) cuts.push_back(edge);
    }
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  double cumulative = 0;
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
    rate_piece piece;
    piece.t0 = cuts[i];
    piece.t1 = cuts[i + 1];
    // Rates are linear within a piece, so two samples just inside it define it.
    double r0 = rate_at(static_cast<millis>(piece.t0)) / 1000.0;
    double mid = (piece.t0 + piece.t1) / 2;
    double rmid = rate_at(static_cast<millis>(mid)) / 1000.0;
    piece.rate0 = r0;
    piece.slope = mid > piece.t0 ? (rmid - r0) / (mid - piece.t0) : 0;
    piece.cumulative0 = cumulative;
    double width = piece.t1 - piece.t0;
    cumulative += r0 * width + piece.slope * width * width / 2;
    rate_pieces_.push_back(piece);
  }
}

double scenario::rate_at(millis t) const {
  const auto& a = profile_.arrival;
  double rate = a.rate;
  double stage_start = 0;
  double from = a.rate;
  for (const auto& stage : a.stages) {
    double stage_end = stage_start + static_cast<double>(stage.duration);
    if (static_cast<double>(t) < stage_end) {
      double f = (static_cast<double>(t) - stage_start) / static_cast<double>(stage.duration);
      rate = from + (stage.rate - from) * f;
      break;
    }
    rate = stage.rate;
    from = stage.rate;
    stage_start = stage_end;
  }
  for (const auto& spike : a.spikes) {
    if (t >= spike.at && t < spike.at + spike.duration) rate *= spike.factor;
  }
  return std::max(rate, 0.0);
}

double scenario::time_of_cumulative(double sessions) const {
  for (const auto& piece : rate_pieces_) {
    double width = piece.t1 - piece.t0;
    double in_piece = piece.rate0 * width + piece.slope * width * width / 2;
    if (sessions >= piece.cumulative0 + in_piece) continue;
    double d = sessions - piece.cumulative0;
    // Solve rate0 * x + slope / 2 * x^2 = d in the form that stays exact as slope -> 0.
    double disc = piece.rate0 * piece.rate0 + 2 * piece.slope * d;
    double x = 2 * d / (piece.rate0 + std::sqrt(std::max(disc, 0.0)));
    return piece.t0 + std::clamp(x, 0.0, width);
  }
  return -1;
}

std::uint64_t scenario::viewer_hash(std::uint32_t viewer) const {
  return mix64(profile_.seed ^ 0x5eedf00dull, viewer);
}

std::string scenario::identifier(std::uint32_t viewer) const {
  return json_text([&](json_writer& w) { write_identifier_text(w, viewer); });
}

scenario::name_table::name_table(const std::vector<weighted_name>& names) {
  double total = 0;
  for (const auto& n : names) total += n.weight;
  double running = 0;
  for (const auto& n : names) {
    running += n.weight;
    cumulative.push_back(total > 0 ? running / total : 1.0);
    json.push_back(json_text([&](json_writer& w) { w.string(n.name); }));
  }
  if (json.empty()) {
    cumulative.push_back(1.0);
    json.emplace_back("\"UNKNOWN\"");
  }
}

std::string_view scenario::name_table::pick(double unit) const {
  std::size_t i = 0;
  while (i + 1 < cumulative.size() && unit >= cumulative[i]) ++i;
  return json[i];
}

request_auth scenario::auth_of(std::uint32_t stream, millis tick) const {
  if (edges_.auth.empty()) return request_auth::normal;
  auto found = edges_.auth.find({stream, tick});
  return found == edges_.auth.end() ? request_auth::normal : found->second;
}

void scenario::write_identifier(json_writer& out, std::uint32_t viewer) const {
  if (viewer >= profile_.viewers.count) {
    out.string(edges_.identifiers[viewer - profile_.viewers.count]);
    return;
  }
  if (identifier_needs_escape_) {
    std::string& text = identifier_buffer();
    text.clear();
    json_writer w(text);
    write_identifier_text(w, viewer);
    w.flush();
    out.string(text);
    return;
  }
  out.put('"');
  write_identifier_text(out, viewer);
  out.put('"');
}

void scenario::write_identifier_text(json_writer& text, std::uint32_t viewer) const {
  const auto& v = profile_.viewers;
  if (viewer >= v.count) {
    text.raw(edges_.identifiers[viewer - v.count]);
    return;
  }
  std::uint64_t h = viewer_hash(viewer);
  switch (v.kind) {
    case identifier_kind::email:
      text.raw(first_names[h % std::size(first_names)]);
      text.put('.');
      text.raw(last_names[(h >> 16) % std::size(last_names)]);
      text.unsigned_integer(viewer + 1ull);
      text.put('@');
      text.raw(v.domain);
      break;
    case identifier_kind::uuid:
      write_uuid(text, h, mix64(h));
      break;
    case identifier_kind::phone:
      text.raw("+91");
      text.unsigned_integer(6'000'000'000ull + viewer);
      break;
    case identifier_kind::anonymous:
      text.raw("anon-");
      write_hex(text, h, 16);
      break;
    case identifier_kind::custom: {
      std::string_view pattern = v.pattern;
      for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern.substr(i, 3) == "{n}") {
          text.unsigned_integer(viewer + 1ull);
          i += 2;
        } else if (pattern.substr(i, 5) == "{hex}") {
          write_hex(text, h >> 32, 8);
          i += 4;
        } else {
          text.put(pattern[i]);
        }
      }
      break;
    }
  }
}

void scenario::write_value(json_writer& out, std::uint32_t variable, std::uint64_t seed) const {
  write_value_spec(out, profile_.session.variables[variable].value, seed);
}

void scenario::write_session(json_writer& out, std::uint32_t deployment, std::uint32_t viewer,
                             std::uint64_t ordinal, millis created, millis modified) const {
  const auto& dep = deployments_[deployment];
  std::uint64_t h = mix64(dep.seed, ordinal);
  rng random(h);
  out.raw("{\"uuid\":\"");
  write_uuid(out, h, mix64(h));
  out.raw("\",\"browser\":");
  out.raw(browsers_.pick(random.unit()));
  out.raw(",\"platform\":");
  out.raw(platforms_.pick(random.unit()));
  out.raw(",\"device_id\":\"");
  // A viewer keeps one device (or one of two), as people do.
  write_hex(out, mix64(viewer_hash(viewer), random.below(4) == 0 ? 2 : 1), 16);
  out.raw("\",\"created_at\":");
  if ((ordinal & edges_.quirk_session_flag) != 0 && (ordinal >> 62) != 0) {
    out.raw("\"xyz\"");  // the documentation's own example, invalid by its types
  } else {
    out.integer(profile_.start_time + created);
  }
  out.raw(",\"modified_at\":");
  out.integer(profile_.start_time + modified);
  out.put('}');
}

// --- the generator ---------------------------------------------------------------------

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
    return at < model.settings().duration ? at : -1;
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
    reach(std::min(end, p.duration - 1) >> block_shift);
    const std::size_t mask = ring.size() - 1;
    const std::int64_t near_end = ring_end();
    const auto tag = static_cast<std::uint32_t>(ordinal);
    // Each event goes straight to its block's bucket. Within a bucket the session's
    // events are together, after those of older sessions: the block's counting sort
    // keeps that, and its events at one ms are put in order there (in_session_order).
    auto add = [&](millis t, webhook_type type, std::uint32_t item, std::uint64_t payload) {
      if (t >= p.duration) return;  // the run is over before the viewer gets there
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
  until = std::min(until, s.model.settings().duration);
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
