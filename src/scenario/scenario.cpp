#include "scenario/scenario.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "core/hex_text.hpp"
#include "core/json_writer.hpp"
#include "core/random.hpp"
#include "scenario/sampling.hpp"

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
    case value_spec::kind::scene:
      out.null();  // a variable's only, written by scenario::write_value
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

scenario::scenario(profile settings, millis generation_end) : profile_(std::move(settings)) {
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
  // A longer generation keeps within the same bound, quietly: it is gmsim's headroom.
  generation_end_ = std::clamp(generation_end, p.duration, last_instant - p.start_time);
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
  for (std::size_t org_index = 0; org_index < p.orgs.size(); ++org_index) {
    const auto& org = p.orgs[org_index];
    for (const auto& dep : org.deployments) {
      deployment_info info;
      info.org = static_cast<std::uint32_t>(org_index);
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
        switch (p.delivery.scope) {
          case pacing_scope::webhook: stream.queue = info.org; break;
          case pacing_scope::deployment: stream.queue = index; break;
          case pacing_scope::stream: stream.queue = stream.index; break;
          case pacing_scope::endpoint: stream.queue = 0; break;
        }
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
  if (p.start_time != default_start_time) {
    start_salt_ = mix64(0x5eed'5a17'0000'0001ULL, static_cast<std::uint64_t>(p.start_time));
  }
  if (!p.session.scenes.empty()) {
    double total = 0;
    for (const auto& scene : p.session.scenes) total += scene.share;
    double running = 0;
    for (const auto& scene : p.session.scenes) {
      scene_cuts_.push_back(total > 0 ? running / total : 0);
      running += scene.share;
    }
    scene_cuts_.push_back(1.0);
  }
  browsers_ = name_table(p.session.browsers);
  platforms_ = name_table(p.session.platforms);
  std::vector<weighted_name> kinds;
  for (const auto& kind : p.session.devices) {
    kinds.push_back(weighted_name{kind.platform, kind.weight});
    device_browsers_.push_back(json_text([&](json_writer& w) { w.string(kind.browser); }));
  }
  device_platforms_ = name_table(kinds);
  if (device_browsers_.empty()) device_browsers_.emplace_back("\"UNKNOWN\"");
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
  const double end = static_cast<double>(generation_end_);
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

std::size_t scenario::name_table::index(double unit) const {
  std::size_t i = 0;
  while (i + 1 < cumulative.size() && unit >= cumulative[i]) ++i;
  return i;
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

std::string scenario::value_text(std::uint32_t variable, std::uint64_t seed) const {
  return json_text([&](json_writer& w) { write_value(w, variable, seed); });
}

void scenario::write_value(json_writer& out, std::uint32_t variable, std::uint64_t seed) const {
  const auto& spec = profile_.session.variables[variable].value;
  if (spec.type == value_spec::kind::scene) {
    const auto& scenes = profile_.session.scenes;
    out.string(scenes.empty() ? std::string_view()
                              : std::string_view(scenes[seed % scenes.size()].name));
    return;
  }
  write_value_spec(out, spec, seed);
}

void scenario::write_session(json_writer& out, std::uint32_t deployment, std::uint32_t viewer,
                             std::uint64_t ordinal, millis created, millis modified) const {
  const auto& dep = deployments_[deployment];
  std::uint64_t h = mix64(dep.seed, ordinal);
  rng random(h);
  const bool edge = (ordinal >> 62) != 0;
  if (edge && (ordinal & edges_.docs_session_flag) != 0) {
    // The documentation's example, as its types allow it: not a UUID, a numeric device
    // id, a browser with a version. Its first instance writes the example's uuid exactly.
    const std::uint64_t instance = (ordinal >> edge_plan::instance_shift) & 0xFFFFF;
    out.raw("{\"uuid\":\"12134-dffgs-2345-vfsd");
    if (instance != 0) {
      out.raw("-");
      out.unsigned_integer(instance);
    }
    out.raw("\",\"browser\":\"CHROME 1\",\"platform\":\"ANDROID\",\"device_id\":\"123");
  } else if (profile_.session.devices_drawn == device_model::table) {
    out.raw("{\"uuid\":\"");
    const std::uint64_t id = h ^ start_salt_;
    write_uuid(out, id, mix64(id));
    // The viewer's device for this session (one of two for a quarter of the viewers);
    // its kind and its id are the device's, whatever the session.
    const std::uint64_t device = mix64(viewer_hash(viewer), random.below(4) == 0 ? 2 : 1);
    const std::size_t kind = device_platforms_.index(rng(mix64(device, 0xde71ce)).unit());
    out.raw("\",\"browser\":");
    out.raw(device_browsers_[kind]);
    out.raw(",\"platform\":");
    out.raw(device_platforms_.json[kind]);
    out.raw(",\"device_id\":\"");
    write_hex(out, device, 16);
  } else {
    out.raw("{\"uuid\":\"");
    const std::uint64_t id = h ^ start_salt_;
    write_uuid(out, id, mix64(id));
    out.raw("\",\"browser\":");
    out.raw(browsers_.pick(random.unit()));
    out.raw(",\"platform\":");
    out.raw(platforms_.pick(random.unit()));
    out.raw(",\"device_id\":\"");
    // A viewer keeps one device (or one of two), as people do.
    write_hex(out, mix64(viewer_hash(viewer), random.below(4) == 0 ? 2 : 1), 16);
  }
  out.raw("\",\"created_at\":");
  if (edge && (ordinal & edges_.quirk_session_flag) != 0) {
    out.raw("\"xyz\"");  // the documentation's own example, invalid by its types
  } else {
    out.integer(profile_.start_time + created);
  }
  out.raw(",\"modified_at\":");
  out.integer(profile_.start_time + modified);
  if (edge && (ordinal & edges_.extra_fields_session_flag) != 0) {
    // Keys beyond the six: Record<string, any> allows them, a strict schema does not.
    out.raw(",\"device_model\":\"Quest 3\",\"os_version\":\"v68\",\"screen\":{\"width\":1832,"
            "\"height\":1920},\"referrer\":null");
  } else {
    // The profile's own extra keys (session.extra_fields), drawn per session.
    std::uint64_t i = 0;
    for (const auto& [name, spec] : profile_.session.extra_fields) {
      out.put(',');
      out.key(name);
      write_value_spec(out, spec, mix64(h, 0xe7f1'0000 + i++));
    }
  }
  out.put('}');
}

}  // namespace gmsim
