#include "scenario/edge_cases.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "core/json_writer.hpp"

namespace gmsim {
namespace {

std::string literal(std::string_view text) {
  return json_text([&](json_writer& w) { w.string(text); });
}

// Builds the plan: identifiers, extra variables and rules, and each occurrence's events
// in a tick window of its own on the edge deployment.
class planner {
 public:
  planner(const profile& p, const std::vector<stream_info>& streams, std::uint32_t edge,
          std::uint32_t organic)
      : p_(p), edge_(edge), organic_(organic) {
    for (const auto& s : streams) {
      if (s.deployment == edge) edge_stream_[static_cast<int>(s.type)] = s;
      if (s.deployment == organic) organic_types_[static_cast<int>(s.type)] = true;
    }
  }

  void occurrence(std::string_view name, int index) {
    current_ = std::string(name);
    // Every edge row carries "gmsimEdgeCase": "<its case>", so a receiver team can find it.
    case_variable_ = variable("gmsimEdgeCase", literal(current_));
    std::string tag = current_ + "-" + std::to_string(index);
    millis t = slot_time();
    auto id = [&](const std::string& suffix) { return identifier(tag + suffix + "@edge.example"); };

    if (name == "batch-exact-500" || name == "batch-501" || name == "batch-one-row") {
      int rows = name == "batch-exact-500" ? 500 : name == "batch-501" ? 501 : 1;
      for (int i = 0; i < rows; ++i) tagged_row(t, id("-" + std::to_string(i)));
    } else if (name == "text-emoji") {
      auto v = identifier(tag + "-😀🎯👍🏽@edge.example");
      vars(t, v, {{"score😀", "\"🎯 emoji 👍🏽 𝄞 family 👨‍👩‍👧\""}});
      rule(t, v, t, "Rule 😀", "scene 🎯");
    } else if (name == "text-rtl") {
      auto v = identifier(tag + "-مستخدم@edge.example");
      vars(t, v, {{"نتيجة", literal("שלום עולם: مرحبا")}});
      rule(t, v, t, "قاعدة", "مشهد ١");
    } else if (name == "text-combining") {
      vars(t, identifier(tag + "-jos\u00e9@edge.example"), {{"caf\u00e9", literal("NFC: \u00e9")}});
      vars(t, identifier(tag + "-jose\u0301@edge.example"), {{"cafe\u0301", literal("NFD: e\u0301")}});
    } else if (name == "text-line-separators") {
      auto v = identifier(tag + "-line\u2028sep@edge.example");
      vars(t, v, {{"note\u2029", literal("a\u2028b\u2029c")}});
    } else if (name == "text-control-chars") {
      auto v = identifier(tag + "-ctl\x01\t@edge.example");
      vars(t, v, {{"ctl\n", literal(std::string("tab\tnl\ncr\rnul") + '\0' + "bell\x07")}});
    } else if (name == "text-quotes-backslashes") {
      auto v = identifier(tag + "-\"quoted\"\\back@edge.example");
      vars(t, v, {{"a\"b\\c", literal("C:\\path\\\"x\"; DROP TABLE rows;--")}});
      rule(t, v, t, "Rule \"quoted\"", "scene \\1");
    } else if (name == "number-big-int") {
      vars(t, id(""), {{"bigInt", "9007199254740993"}, {"maxInt64", "9223372036854775807"},
                       {"minInt64", "-9223372036854775808"}, {"maxUint64", "18446744073709551615"}});
    } else if (name == "number-negative") {
      vars(t, id(""), {{"delta", "-42"}, {"ratio", "-0.75"}});
    } else if (name == "number-zero") {
      vars(t, id(""), {{"zero", "0"}, {"negativeZero", "-0.0"}, {"floatZero", "0.0"}});
    } else if (name == "number-huge") {
      vars(t, id(""), {{"huge", "1e308"}, {"negativeHuge", "-1.7976931348623157e308"}});
    } else if (name == "number-tiny") {
      vars(t, id(""), {{"denormal", "5e-324"}, {"tiny", "1e-7"}});
    } else if (name == "number-long-decimal") {
      vars(t, id(""), {{"pi", "3.14159265358979323846264338327950288"},
                       {"tenth", "0.1000000000000000055511151231257827"}});
    } else if (name == "value-null") {
      vars(t, id(""), {{"nothing", "null"}});
    } else if (name == "value-nested") {
      vars(t, id(""), {{"nested", R"({"a":{"b":[1,{"c":null,"d":[[],{}]}],"e":"f"}})"}});
    } else if (name == "value-empty-object") {
      vars(t, id(""), {{"empty", "{}"}});
    } else if (name == "value-empty-string") {
      vars(t, id(""), {{"blank", "\"\""}});
    } else if (name == "value-long-string") {
      std::string text;
      for (int i = 0; text.size() < 100'000; ++i) text += "long value " + std::to_string(i) + " ";
      vars(t, id(""), {{"longText", literal(text)}});
    } else if (name == "value-over-express-limit") {
      // Express's express.json() refuses bodies over 100 kB (102,400 bytes) with 413.
      // value-long-string's page is 100,210 bytes, under it; this text makes the page
      // 102,450 to 102,700 bytes, whatever the slugs (the rest of the page is 150-400).
      std::string text;
      for (int i = 0; text.size() < 102'300; ++i) text += "over the limit " + std::to_string(i) + " ";
      text.resize(102'300);
      vars(t, id(""), {{"overLimitText", literal(text)}});
    } else if (name == "session-docs-example") {
      auto v = id("");
      tagged_row(t, v);
      session(t, v, t, plan_.docs_session_flag |
                           (static_cast<std::uint64_t>(index) << edge_plan::instance_shift));
    } else if (name == "session-extra-fields") {
      auto v = id("");
      tagged_row(t, v);
      session(t, v, t, plan_.extra_fields_session_flag);
    } else if (name == "identifier-empty") {
      tagged_row(t, identifier(""));
    } else if (name == "identifier-long") {
      std::string text = tag + "-";
      while (text.size() < 10'000) text += "x";
      tagged_row(t, identifier(text + "@edge.example"));
    } else if (name == "identifier-not-email") {
      tagged_row(t, identifier("learner " + tag));
    } else if (name == "identifier-uuid") {
      tagged_row(t, identifier("6f1c2a9e-3b4d-4e5f-8a7b-" + std::to_string(100000000000 + index)));
    } else if (name == "identifier-phone") {
      tagged_row(t, identifier("+1415555" + std::to_string(1000 + index % 9000)));
    } else if (name == "identifier-multi-deployment") {
      auto v = identifier("shared." + tag + "@edge.example");
      tagged_row(t, v);
      if (organic_types_[0]) script(organic_).push_back(var_event(t, v, case_variable_, 0));
    } else if (name == "time-rules-out-of-order") {
      auto v = id("");
      rule(t, v, t + 5'000, "Later First", "scene 2");
      rule(t + 1, v, t, "Earlier Second", "scene 1");
    } else if (name == "time-zero") {
      rule(t, id(""), -p_.start_time, "Epoch Zero", "scene 1");
    } else if (name == "time-future") {
      rule(t, id(""), t + 365LL * 86'400'000, "A Year Ahead", "scene 1");
    } else if (name == "time-created-after-modified") {
      session(t, id(""), t + 3'600'000, 0);
    } else if (name == "repeat-row-consecutive-pages") {
      auto v = id("");
      tagged_row(t, v);
      tagged_row(slot_time(), v);  // the next window: the next page of the stream
    } else if (name == "repeat-rule-twice") {
      auto v = id("");
      rule(t, v, t, "Twice", "scene 1");
      rule(t, v, t, "Twice", "scene 1");
    } else if (name == "volume-tick-boundary-burst") {
      millis tick = flush_tick(webhook_type::variables, t);
      for (int i = 0; i < 200; ++i) {
        auto v = id("-" + std::to_string(i));
        tagged_row(tick - 1, v);
        tagged_row(tick, v);
      }
      slot_time();  // the burst spills into the next window
    } else if (name == "volume-all-types") {
      auto v = id("");
      tagged_row(t, v);
      rule(t, v, t, "All At Once", "scene 1");
      session(t, v, t, 0);
    } else if (name == "auth-missing" || name == "auth-wrong") {
      tagged_row(t, id(""));
      if (edge_stream_[0]) {
        plan_.auth[{edge_stream_[0]->index, flush_tick(webhook_type::variables, t)}] =
            name == "auth-missing" ? request_auth::missing : request_auth::wrong;
      }
    } else if (name == "quirk-created-at-string") {
      session(t, id(""), t, plan_.quirk_session_flag);
    }
  }

  edge_plan finish() {
    for (auto& [deployment, events] : plan_.scripts) {
      std::stable_sort(events.begin(), events.end(),
                       [](const event& a, const event& b) { return a.t < b.t; });
      // Nothing may fall after the run: the last windows squeeze in before its end.
      for (auto& e : events) e.t = std::clamp<millis>(e.t, 0, p_.duration - 1);
    }
    return std::move(plan_);
  }

 private:
  std::uint32_t organic_variables() const {
    return static_cast<std::uint32_t>(p_.session.variables.size());
  }

  // The middle of the next unused tick window of the edge deployment's variables stream.
  millis slot_time() {
    const millis d = p_.delivery.max_delay;
    millis phase = edge_stream_[0] ? edge_stream_[0]->phase : 0;
    millis t = phase + window_++ * d + d / 2;
    return std::min(t, p_.duration - 1);
  }

  // The tick that flushes an event of the edge deployment's stream at t.
  millis flush_tick(webhook_type type, millis t) const {
    const auto& s = edge_stream_[static_cast<int>(type)];
    if (!s) return p_.duration;
    const millis d = p_.delivery.max_delay;
    millis tick = s->phase;
    if (t >= tick) tick += ((t - s->phase) / d + 1) * d;
    // As the engine ticks: the last flush is the stream's own next tick, or the duration's
    // end when every stream must flush then (final_flush).
    return p_.delivery.last_flush == final_flush::at_duration ? std::min(tick, p_.duration) : tick;
  }

  std::uint32_t identifier(std::string text) {
    plan_.identifiers.push_back(std::move(text));
    return p_.viewers.count + static_cast<std::uint32_t>(plan_.identifiers.size() - 1);
  }

  std::uint32_t variable(std::string name, std::string value_json) {
    for (std::uint32_t i = 0; i < plan_.variables.size(); ++i) {
      const auto& v = plan_.variables[i];
      if (v.name == name && v.value.values_json[0] == value_json) return organic_variables() + i;
    }
    variable_spec v;
    v.name = std::move(name);
    v.value.type = value_spec::kind::enumeration;
    v.value.values_json = {std::move(value_json)};
    v.changes_min = v.changes_max = 0;
    plan_.variables.push_back(std::move(v));
    return organic_variables() + static_cast<std::uint32_t>(plan_.variables.size() - 1);
  }

  std::vector<event>& script(std::uint32_t deployment) { return plan_.scripts[deployment]; }

  static event var_event(millis t, std::uint32_t viewer, std::uint32_t variable, std::uint64_t seed) {
    return event{t, t, seed, viewer, variable, webhook_type::variables};
  }

  // A variables row that says which case it belongs to.
  void tagged_row(millis t, std::uint32_t viewer) { vars(t, viewer, {}); }

  void vars(millis t, std::uint32_t viewer,
            std::initializer_list<std::pair<std::string, std::string>> values) {
    if (!edge_stream_[0]) return;
    script(edge_).push_back(var_event(t, viewer, case_variable_, 0));
    for (const auto& [name, json] : values) {
      script(edge_).push_back(var_event(t, viewer, variable(name, json), 0));
    }
  }

  void rule(millis t, std::uint32_t viewer, millis timestamp, std::string name, std::string scene) {
    if (!edge_stream_[1]) return;
    std::uint32_t index = 0;
    for (; index < plan_.rules.size(); ++index) {
      if (plan_.rules[index].name == name && plan_.rules[index].scenes[0] == scene) break;
    }
    if (index == plan_.rules.size()) {
      plan_.rules.push_back(rule_spec{9000 + static_cast<std::int64_t>(index), name, {scene}, 0.0, 1});
    }
    auto global = static_cast<std::uint32_t>(p_.session.rules.size()) + index;
    script(edge_).push_back(event{t, timestamp, 0, viewer, global, webhook_type::rules});
  }

  void session(millis t, std::uint32_t viewer, millis created, std::uint64_t flags) {
    if (!edge_stream_[2]) return;
    script(edge_).push_back(event{t, created, (1ull << 62) | flags | sessions_++, viewer, 0,
                                  webhook_type::session});
  }

  const profile& p_;
  std::uint32_t edge_, organic_;
  std::optional<stream_info> edge_stream_[webhook_type_count];
  bool organic_types_[webhook_type_count] = {false, false, false};
  edge_plan plan_;
  std::uint32_t case_variable_ = 0;
  std::string current_;
  millis window_ = 1;  // window 0 ends at the first tick: it may be very short
  std::uint64_t sessions_ = 0;
};

}  // namespace

edge_plan plan_edge_cases(const profile& settings, const std::vector<stream_info>& streams,
                          std::uint32_t edge_deployment, std::uint32_t organic_deployment) {
  planner plan(settings, streams, edge_deployment, organic_deployment);
  for (const auto& s : expand_edge_cases(settings.edge_cases)) {
    for (int i = 0; i < s.count; ++i) plan.occurrence(s.name, i);
  }
  return plan.finish();
}

}  // namespace gmsim
