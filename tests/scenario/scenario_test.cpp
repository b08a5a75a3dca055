#include "scenario/generator.hpp"
#include "scenario/scenario.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "core/json_writer.hpp"
#include "profile/profile_reader.hpp"
#include "test_support.hpp"

namespace gmsim {
namespace {

std::vector<event> generate_all(const scenario& model, std::uint32_t deployment, millis step) {
  deployment_generator g(model, deployment);
  std::vector<event> out;
  for (millis t = step; t <= model.settings().duration + step; t += step) g.generate_until(t, out);
  return out;
}

bool same(const event& a, const event& b) {
  return a.t == b.t && a.created == b.created && a.payload == b.payload && a.viewer == b.viewer &&
         a.item == b.item && a.type == b.type;
}

TEST(scenario, events_are_in_time_order_within_the_run_and_only_of_enabled_types) {
  auto p = testing::small_profile(2);
  p.orgs[0].deployments[1].types = {true, false, false};
  scenario model(p);
  ASSERT_EQ(model.streams().size(), 4u);  // 3 + 1
  for (std::uint32_t d = 0; d < 2; ++d) {
    auto events = generate_all(model, d, 7'000);
    ASSERT_FALSE(events.empty());
    for (std::size_t i = 0; i < events.size(); ++i) {
      EXPECT_GE(events[i].t, 0);
      EXPECT_LT(events[i].t, p.duration);
      if (i > 0) EXPECT_LE(events[i - 1].t, events[i].t);
      if (d == 1) EXPECT_EQ(events[i].type, webhook_type::variables);
    }
  }
}

TEST(scenario, generation_is_the_same_whatever_the_steps) {
  scenario model(testing::small_profile(1));
  auto whole = generate_all(model, 0, model.settings().duration);
  auto stepped = generate_all(model, 0, 1'234);
  ASSERT_EQ(whole.size(), stepped.size());
  for (std::size_t i = 0; i < whole.size(); ++i) ASSERT_TRUE(same(whole[i], stepped[i])) << i;
}

// The generator draws a session's events when it begins and reads them back a block of
// time at a time (a calendar queue). Whatever the steps it is asked in, it gives the
// same events in the same order: by time, at equal times in the order the sessions
// began (their tags), and one session's in its own order; and it counts exactly the
// sessions begun before each step. Four shapes: 20 sessions a second of up to 30
// minutes (many events are drawn past the ring's 128 blocks and wait in its far heap),
// rare short ones (mostly empty blocks, skipped), rare long ones (the ring empties
// while far events wait), and 800 sessions a second (over 2,048 events a block: the
// one-pass counting sort, and many sessions' events at one ms).
TEST(scenario, the_calendar_gives_the_same_events_and_sessions_whatever_the_steps) {
  auto long_sessions = testing::small_profile(1, 600'000, 20);
  long_sessions.session.length_ms = {distribution_kind::uniform, 1'000, 1'800'000, 0, 0};
  auto rare_sessions = testing::small_profile(1, 2'400'000, 0.01);
  rare_sessions.session.length_ms = {distribution_kind::uniform, 0, 2'000, 0, 0};
  // Rare and long: the ring empties while far events wait, and the skip to the next
  // block must bring them in first.
  auto rare_long_sessions = testing::small_profile(1, 3'600'000, 0.005);
  rare_long_sessions.session.length_ms = {distribution_kind::uniform, 180'000, 1'800'000, 0, 0};
  auto dense_sessions = testing::small_profile(1, 20'000, 800);
  dense_sessions.session.length_ms = {distribution_kind::uniform, 500, 3'000, 0, 0};
  // A session's events at one ms: its creation with up to 3 changes of a variable set
  // at the start, its end with quizCompleted's change.
  for (auto* p : {&long_sessions, &rare_sessions, &rare_long_sessions, &dense_sessions}) {
    p->session.send_on_end = true;
    variable_spec entered = p->session.variables.front();
    entered.name = "entered";
    entered.when = change_timing::start;
    entered.changes_min = 1;
    entered.changes_max = 3;
    p->session.variables.push_back(entered);
  }
  for (const auto& p : {long_sessions, rare_sessions, rare_long_sessions, dense_sessions}) {
    scenario model(p);
    const auto whole = generate_all(model, 0, p.duration);
    ASSERT_GT(whole.size(), 100u);
    std::size_t ties_in_a_session = 0;
    std::size_t ties_between_sessions = 0;
    for (millis step : {1, 999, 1'024, 1'025, 7'777, 600'000}) {
      SCOPED_TRACE(step);
      deployment_generator g(model, 0);
      std::vector<event> out;
      std::set<std::uint64_t> begun;  // the sessions whose creation is out: payload = ordinal
      for (millis t = step; t < p.duration + step; t += step) {
        const auto before = out.size();
        g.generate_until(t, out);
        for (auto i = before; i < out.size(); ++i) {
          if (out[i].type == webhook_type::session) begun.insert(out[i].payload);
        }
        ASSERT_EQ(g.sessions_started(), begun.size()) << "at " << t;
      }
      ASSERT_EQ(out.size(), whole.size());
      for (std::size_t i = 0; i < whole.size(); ++i) ASSERT_TRUE(same(whole[i], out[i])) << i;
    }
    for (std::size_t i = 1; i < whole.size(); ++i) {
      const event& a = whole[i - 1];
      const event& b = whole[i];
      ASSERT_LE(a.t, b.t);
      if (a.t == b.t && a.type == webhook_type::session && b.type == webhook_type::session &&
          a.payload != b.payload) {
        EXPECT_LT(a.payload, b.payload) << "equal times in the order the sessions began";
      }
      if (a.t == b.t && a.session_tag != b.session_tag) {
        EXPECT_LT(a.session_tag, b.session_tag) << "equal times in the order the sessions began";
        ++ties_between_sessions;
      }
      if (a.t == b.t && a.session_tag == b.session_tag) {
        // One session's events at one ms: its creation (or end) first, then by item and
        // value, as the session drew them sorted.
        EXPECT_TRUE(a.type != b.type ? a.type > b.type
                    : a.item != b.item ? a.item < b.item
                                       : a.payload <= b.payload)
            << i;
        ++ties_in_a_session;
      }
    }
    if (p.arrival.rate >= 0.01) EXPECT_GT(ties_in_a_session, 50u);
    if (p.arrival.rate >= 20) EXPECT_GT(ties_between_sessions, 1'000u);
  }
}

TEST(scenario, the_seed_decides_and_a_deployment_does_not_depend_on_the_others) {
  auto p = testing::small_profile(2);
  scenario a(p);
  p.seed = 43;
  scenario b(p);
  auto ea = generate_all(a, 0, 60'000);
  auto eb = generate_all(b, 0, 60'000);
  bool differ = ea.size() != eb.size();
  for (std::size_t i = 0; !differ && i < ea.size(); ++i) differ = !same(ea[i], eb[i]);
  EXPECT_TRUE(differ);

  // A third deployment with the same share of sessions leaves dep-1's events unchanged
  // when the total rate grows with it.
  auto q = testing::small_profile(2);
  auto r = testing::small_profile(3, q.duration, q.arrival.rate * 1.5);
  auto eq = generate_all(scenario(q), 0, 60'000);
  auto er = generate_all(scenario(r), 0, 60'000);
  ASSERT_EQ(eq.size(), er.size());
  for (std::size_t i = 0; i < eq.size(); ++i) ASSERT_TRUE(same(eq[i], er[i]));
}

std::int64_t sessions_in(const profile& p) {
  scenario model(p);
  std::int64_t n = 0;
  for (std::uint32_t d = 0; d < model.deployments().size(); ++d) {
    deployment_generator g(model, d);
    std::vector<event> out;
    g.generate_until(p.duration, out);
    n += static_cast<std::int64_t>(g.sessions_started());
  }
  return n;
}

TEST(scenario, a_constant_arrival_rate_gives_exactly_rate_times_duration) {
  auto p = testing::small_profile(1, 100'000, 2.0);
  p.arrival.process = arrival_process::constant;
  EXPECT_NEAR(sessions_in(p), 200, 1);
}

TEST(scenario, poisson_arrivals_average_the_rate) {
  auto p = testing::small_profile(4, 1'000'000, 2.0);  // expect 2000 sessions
  auto n = sessions_in(p);
  EXPECT_NEAR(n, 2000, 5 * std::sqrt(2000.0));
}

TEST(scenario, stages_ramp_linearly_and_spikes_multiply) {
  auto p = testing::small_profile(1, 100'000, 0.0);
  p.arrival.process = arrival_process::constant;
  p.arrival.stages = {arrival_stage{100'000, 10.0}};  // 0 -> 10/s over 100 s: 500 sessions
  EXPECT_NEAR(sessions_in(p), 500, 1);
  scenario model(p);
  EXPECT_DOUBLE_EQ(model.rate_at(50'000), 5.0);

  auto s = testing::small_profile(1, 100'000, 1.0);
  s.arrival.process = arrival_process::constant;
  s.arrival.spikes = {arrival_spike{50'000, 10'000, 10.0}};  // 90 s at 1/s + 10 s at 10/s
  EXPECT_NEAR(sessions_in(s), 190, 1);
}

TEST(scenario, identifiers_have_the_kind_asked_for_and_are_distinct) {
  auto p = testing::small_profile(1);
  const std::pair<identifier_kind, std::regex> kinds[] = {
      {identifier_kind::email, std::regex(R"([a-z]+\.[a-z]+[0-9]+@example\.com)")},
      {identifier_kind::uuid,
       std::regex(R"([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})")},
      {identifier_kind::phone, std::regex(R"(\+91[0-9]{10})")},
      {identifier_kind::anonymous, std::regex(R"(anon-[0-9a-f]{16})")},
      {identifier_kind::custom, std::regex(R"(user-[0-9]+-[0-9a-f]{8})")},
  };
  for (const auto& [kind, pattern] : kinds) {
    p.viewers.kind = kind;
    p.viewers.pattern = "user-{n}-{hex}";
    scenario model(p);
    std::set<std::string> seen;
    for (std::uint32_t v = 0; v < 300; ++v) {
      auto id = model.identifier(v);
      EXPECT_TRUE(std::regex_match(id, pattern)) << id;
      seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 300u);
  }
}

// The same seed writes the same traffic from one version to the next: a recording made
// today is compared with one made later. Pinned bytes for every identifier kind and a
// session object, so that a faster writer of hex digits or UUIDs cannot change them.
TEST(scenario, a_seed_writes_the_same_identifiers_and_sessions_as_before) {
  auto p = testing::small_profile(1);
  p.viewers.pattern = "user-{n}-{hex}";
  const std::pair<identifier_kind, std::vector<std::string>> kinds[] = {
      {identifier_kind::email,
       {"omar.muller1@example.com", "arjun.gupta2@example.com", "jose.park500@example.com"}},
      {identifier_kind::uuid,
       {"297c8008-1de5-4ee9-b66f-49f888c920fe", "e62eb5ff-6e86-4e11-9e0b-f643f20972df",
        "b7f1b240-1956-4d65-9a3f-d60338e7a480"}},
      {identifier_kind::phone, {"+916000000000", "+916000000001", "+916000000499"}},
      {identifier_kind::anonymous,
       {"anon-297c80081de54ee9", "anon-e62eb5ff6e86de11", "anon-b7f1b24019563d65"}},
      {identifier_kind::custom, {"user-1-297c8008", "user-2-e62eb5ff", "user-500-b7f1b240"}},
  };
  for (const auto& [kind, expected] : kinds) {
    p.viewers.kind = kind;
    scenario model(p);
    std::vector<std::string> ids, quoted;
    for (std::uint32_t v : {0u, 1u, 499u}) {
      ids.push_back(model.identifier(v));
      quoted.push_back(json_text([&](json_writer& w) { model.write_identifier(w, v); }));
    }
    EXPECT_EQ(ids, expected);
    for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(quoted[i], '"' + expected[i] + '"');
  }
  scenario model(p);
  std::string session;
  {
    json_writer w(session);
    model.write_session(w, 0, 7, 12345, 1'000, 61'500);
  }
  EXPECT_EQ(
      session,
      R"({"uuid":"6ae631ee-3e45-4a5f-9565-4da8a4d35b43","browser":"CHROME","platform":"ANDROID","device_id":"6dbe328a0b90c655","created_at":1767225601000,"modified_at":1767225661500})");
}

// session.devices: every (platform, browser) written is a pair of the table; a device_id
// always shows one platform and browser; a viewer has one or two devices. The free draw
// (0.1, and profiles listing browsers or platforms) writes pairs outside any table.
TEST(scenario, sessions_come_from_devices_of_the_table_and_a_device_id_keeps_its_kind) {
  auto p = testing::small_profile(1);
  p.viewers.count = 200;
  p.session.devices_drawn = device_model::table;
  p.session.devices = {{"OCULUS_QUEST", "OCULUS_BROWSER", 3}, {"ANDROID", "CHROME", 2},
                       {"IOS", "SAFARI", 1}, {"WINDOWS", "EDGE", 1}};
  std::set<std::pair<std::string, std::string>> table;
  for (const auto& d : p.session.devices) table.insert({d.platform, d.browser});
  auto sessions = [](const scenario& model) {
    std::vector<nlohmann::json> out;
    for (std::uint64_t ordinal = 0; ordinal < 4'000; ++ordinal) {
      const auto viewer = static_cast<std::uint32_t>(ordinal % 200);
      out.push_back(nlohmann::json::parse(json_text(
          [&](json_writer& w) { model.write_session(w, 0, viewer, ordinal, 1'000, 1'000); })));
      out.back()["viewer"] = viewer;
    }
    return out;
  };
  std::map<std::string, std::pair<std::string, std::string>> kind_of_device;
  std::map<std::uint32_t, std::set<std::string>> devices_of_viewer;
  std::map<std::pair<std::string, std::string>, int> seen;
  for (const auto& s : sessions(scenario(p))) {
    const std::pair<std::string, std::string> kind{s["platform"], s["browser"]};
    EXPECT_EQ(table.count(kind), 1u) << s;
    ++seen[kind];
    auto [it, added] = kind_of_device.emplace(s["device_id"].get<std::string>(), kind);
    EXPECT_EQ(it->second, kind) << s;
    devices_of_viewer[s["viewer"].get<std::uint32_t>()].insert(s["device_id"].get<std::string>());
  }
  EXPECT_EQ(seen.size(), table.size());  // every kind drawn
  EXPECT_GT((seen[{"OCULUS_QUEST", "OCULUS_BROWSER"}]), (seen[{"IOS", "SAFARI"}]));  // weights
  int two = 0;
  for (const auto& [viewer, devices] : devices_of_viewer) {
    EXPECT_LE(devices.size(), 2u);
    two += devices.size() == 2 ? 1 : 0;
  }
  EXPECT_GT(two, 20);  // some viewers own two devices
  // The free draw of the same names writes pairs no table holds.
  p.session.devices_drawn = device_model::free_draw;
  p.session.browsers = {{"OCULUS_BROWSER", 3}, {"CHROME", 2}, {"SAFARI", 1}, {"EDGE", 1}};
  p.session.platforms = {{"OCULUS_QUEST", 3}, {"ANDROID", 2}, {"IOS", 1}, {"WINDOWS", 1}};
  int outside = 0;
  for (const auto& s : sessions(scenario(p))) {
    outside += table.count({s["platform"], s["browser"]}) == 0 ? 1 : 0;
  }
  EXPECT_GT(outside, 1'000);
}

// The built-in table: every pair exists (a headset's own browser, Safari only on Apple
// platforms, Samsung Internet only on Android, Edge only on Windows).
TEST(scenario, the_default_device_table_holds_only_pairs_that_exist) {
  const auto session = parse_profile("{}", "x.json").session;
  EXPECT_EQ(session.devices_drawn, device_model::table);
  const std::set<std::pair<std::string, std::string>> exist = {
      {"OCULUS_QUEST", "OCULUS_BROWSER"}, {"PICO", "PICO_BROWSER"}, {"VISION_OS", "SAFARI"},
      {"ANDROID", "CHROME"}, {"ANDROID", "SAMSUNG_INTERNET"}, {"ANDROID", "FIREFOX"},
      {"IOS", "SAFARI"}, {"IOS", "CHROME"}, {"WINDOWS", "CHROME"}, {"WINDOWS", "EDGE"},
      {"WINDOWS", "FIREFOX"}, {"MACOS", "SAFARI"}, {"MACOS", "CHROME"}, {"MACOS", "FIREFOX"}};
  ASSERT_GE(session.devices.size(), 8u);
  for (const auto& d : session.devices) {
    EXPECT_EQ(exist.count({d.platform, d.browser}), 1u) << d.platform << " " << d.browser;
  }
  // A profile that lists browsers or platforms draws from them, as it asked.
  EXPECT_EQ(parse_profile(R"({"session": {"browsers": ["CHROME"]}})", "x.json").session.devices_drawn,
            device_model::free_draw);
  EXPECT_EQ(parse_profile(R"({"session": {"devices": "free_draw"}})", "x.json").session.devices_drawn,
            device_model::free_draw);
}

// The experience script (session.scenes): sessions walk the scenes in order, variables
// and rules keep to their scenes, no rule fires before its condition holds (a variable's
// final value, another rule's first firing). The same profile drawn freely breaks each.
TEST(scenario, a_scripted_session_keeps_scene_order_and_fires_no_rule_before_its_condition) {
  const std::string script = R"({"seed": 7, "duration": "30m",
    "orgs": [{"slug": "acme", "deployments": ["training"]}],
    "viewers": {"count": 1000000}, "arrival": {"rate": "2/s"},
    "session": {"length": {"dist": "uniform", "min": "2m", "max": "10m"},
      "scenes": [{"name": "intro", "share": 1}, {"name": "quiz", "share": 3}, {"name": "results", "share": 1}],
      "variables": [
        {"name": "currentScene", "type": "scene"},
        {"name": "score", "type": "int", "changes": [2, 6], "scene": "quiz"},
        {"name": "quizCompleted", "type": "bool", "p_true": 0.6, "when": "start", "scene": "results"}],
      "rules": [
        {"cid": 1, "name": "Scene Entered", "scenes": ["intro", "quiz", "results"], "on": "enter"},
        {"cid": 2, "name": "Answer", "scenes": ["quiz"], "repeat": 5},
        {"cid": 3, "name": "Quiz Completed", "scenes": ["results"], "if": {"variable": "quizCompleted", "equals": true}},
        {"cid": 4, "name": "Certificate", "scenes": ["results"], "probability": 0.5, "after": "Quiz Completed"}]}})";
  struct walk {
    std::vector<std::pair<millis, std::string>> scenes;  // currentScene changes
    millis quiz_entered = -1, results_entered = -1;
    std::pair<millis, std::uint64_t> completed_last{-1, 0};
    std::vector<millis> score, answers, completed, certificates;
    std::vector<std::uint64_t> entered;  // Scene Entered's scene, in time order
  };
  auto walks_of = [](const scenario& model) {
    std::map<std::uint32_t, walk> walks;
    for (const event& e : generate_all(model, 0, 5'000)) {
      walk& w = walks[e.session_tag];
      if (e.type == webhook_type::variables) {
        const std::string value = model.value_text(e.item, e.payload);
        if (e.item == 0) {
          w.scenes.emplace_back(e.t, value);
          if (value == "\"quiz\"") w.quiz_entered = e.t;
          if (value == "\"results\"") w.results_entered = e.t;
        } else if (e.item == 1) {
          w.score.push_back(e.t);
        } else if (std::pair{e.t, e.payload} > w.completed_last) {
          w.completed_last = {e.t, e.payload};
        }
      } else if (e.type == webhook_type::rules) {
        std::vector<millis>* fired[] = {nullptr, &w.answers, &w.completed, &w.certificates};
        if (e.item == 0) w.entered.push_back(e.payload);
        else fired[e.item]->push_back(e.t);
      }
    }
    return walks;
  };
  const profile scripted = parse_profile(script, "script.json");
  {
    const scenario model(scripted);
    const auto walks = walks_of(model);
    ASSERT_GT(walks.size(), 1'000u);
    int completions = 0, certificates = 0;
    for (const auto& [tag, w] : walks) {
      // Sessions cut by the run's end are partial: every check below still holds.
      const std::vector<std::string> order = {"\"intro\"", "\"quiz\"", "\"results\""};
      for (std::size_t i = 0; i < w.scenes.size(); ++i) {
        EXPECT_EQ(w.scenes[i].second, order[i]) << tag;
        if (i > 0) EXPECT_GT(w.scenes[i].first, w.scenes[i - 1].first) << tag;
      }
      for (std::size_t i = 0; i < w.entered.size(); ++i) EXPECT_EQ(w.entered[i], i) << tag;
      for (millis t : w.score) {
        EXPECT_GE(t, w.quiz_entered) << tag;
        EXPECT_TRUE(w.results_entered < 0 || t < w.results_entered) << tag;
      }
      for (millis t : w.answers) EXPECT_GE(t, w.quiz_entered) << tag;
      if (!w.completed.empty()) {
        ++completions;
        ASSERT_GE(w.completed_last.first, 0) << tag;
        EXPECT_EQ(model.value_text(2, w.completed_last.second), "true") << tag;
        for (millis t : w.completed) EXPECT_GT(t, w.completed_last.first) << tag;
      }
      if (!w.certificates.empty()) {
        ++certificates;
        ASSERT_FALSE(w.completed.empty()) << tag;
        for (millis t : w.certificates) EXPECT_GT(t, w.completed.front()) << tag;
      }
    }
    EXPECT_GT(completions, 300);
    EXPECT_GT(certificates, 100);
  }
  // Drawn freely (no script), the same rules break the script's order.
  profile free = scripted;
  free.session.scenes.clear();
  for (auto& rule : free.session.rules) {
    rule.scene_index.clear();
    rule.on = rule_trigger::during;
    rule.if_variable = -1;
    rule.after_rule = -1;
  }
  for (auto& variable : free.session.variables) variable.scene = -1;
  free.session.variables[0].value.type = value_spec::kind::enumeration;
  free.session.variables[0].value.values_json = {"\"intro\"", "\"quiz\"", "\"results\""};
  const auto walks = walks_of(scenario(free));
  int early_answers = 0, certificates_without = 0;
  for (const auto& [tag, w] : walks) {
    (void)tag;
    for (millis t : w.answers) early_answers += (w.quiz_entered < 0 || t < w.quiz_entered) ? 1 : 0;
    certificates_without += (!w.certificates.empty() && w.completed.empty()) ? 1 : 0;
  }
  EXPECT_GT(early_answers, 100);
  EXPECT_GT(certificates_without, 50);
}

TEST(scenario, stream_phases_are_seeded_within_the_max_delay_or_aligned) {
  auto p = testing::small_profile(5);
  scenario model(p);
  std::set<millis> phases;
  for (const auto& s : model.streams()) {
    EXPECT_GE(s.phase, 0);
    EXPECT_LT(s.phase, p.delivery.max_delay);
    phases.insert(s.phase);
  }
  EXPECT_GT(phases.size(), 10u);
  p.delivery.align_ticks = true;
  // Named: a range-for over a temporary's member would read it after its destruction.
  scenario aligned(p);
  for (const auto& s : aligned.streams()) EXPECT_EQ(s.phase, 0);
}

TEST(scenario, a_profile_without_deployments_is_refused) {
  auto p = testing::small_profile(1);
  p.orgs[0].deployments.clear();
  EXPECT_THROW(scenario{p}, profile_error);
}

}  // namespace
}  // namespace gmsim
