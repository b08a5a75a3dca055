// The encoder against nlohmann::json: for random profiles (odd names, slugs and enum
// values) and random pages, parsing the encoder's bytes gives the document that
// nlohmann builds from the same rows.
#include "delivery/encoder.hpp"
#include "scenario/generator.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "core/json_writer.hpp"
#include "delivery/schema.hpp"
#include "test_support.hpp"

namespace gmsim {
namespace {

using nlohmann::json;

std::string random_text(std::mt19937_64& random) {
  static const std::vector<std::string> pieces = {
      "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", std::string(1, '\x01'), std::string(1, '\x1f'),
      "é", "中", "😀", "\xe2\x80\xa8", "\xe2\x80\xa9", "ש", "e\xcc\x81", "<", "&", "'"};
  std::string out;
  auto n = random() % 12;
  for (std::size_t i = 0; i < n; ++i) out += pieces[random() % pieces.size()];
  return out;
}

json random_json(std::mt19937_64& random, int depth = 0) {
  switch (random() % (depth > 2 ? 6 : 8)) {
    case 0: return nullptr;
    case 1: return static_cast<std::int64_t>(random());  // the whole int64 range
    case 2: return random();                              // and uint64
    case 3: return std::ldexp(static_cast<double>(random() % 1000000) - 500000, static_cast<int>(random() % 200) - 100);
    case 4: return random() % 2 == 0;
    case 5: return random_text(random);
    case 6: {
      json a = json::array();
      for (int i = 0, n = static_cast<int>(random() % 4); i < n; ++i) a.push_back(random_json(random, depth + 1));
      return a;
    }
    default: {
      json o = json::object();
      for (int i = 0, n = static_cast<int>(random() % 4); i < n; ++i) o[random_text(random)] = random_json(random, depth + 1);
      return o;
    }
  }
}

// The value the scenario writes, read back on its own.
json value_of(const scenario& model, std::uint32_t variable, std::uint64_t seed) {
  std::string text;
  json_writer w(text);
  model.write_value(w, variable, seed);
  w.flush();
  return json::parse(text);
}

json session_of(const scenario& model, std::uint32_t dep, const page_row& row) {
  std::string text;
  json_writer w(text);
  model.write_session(w, dep, row.viewer, row.session, row.created, row.newest);
  w.flush();
  return json::parse(text);
}

// The body as nlohmann builds it from the page and the profile.
json expected_body(const scenario& model, const page& p) {
  const auto& stream = model.streams()[p.stream];
  const auto& dep = model.deployments()[stream.deployment];
  const auto& settings = model.settings();
  json rows = json::array();
  for (const auto& row : p.rows) {
    json r;
    r["identifier"] = model.identifier(row.viewer);
    const page_item* items = p.items.data() + row.first_item;
    if (stream.type == webhook_type::variables) {
      json vars = json::object();
      for (std::uint32_t i = 0; i < row.item_count; ++i) {
        vars[settings.session.variables[items[i].index].name] = value_of(model, items[i].index, items[i].payload);
      }
      r["variables"] = vars;
    } else if (stream.type == webhook_type::rules) {
      json rules = json::array();
      for (std::uint32_t i = 0; i < row.item_count; ++i) {
        const auto& rule = settings.session.rules[items[i].index];
        rules.push_back({{"cid", rule.cid},
                         {"cname", rule.name},
                         {"scene_name", rule.scenes[items[i].payload % rule.scenes.size()]},
                         {"timestamp", settings.start_time + items[i].t}});
      }
      r["rules"] = rules;
    } else {
      r["session"] = session_of(model, stream.deployment, row);
    }
    rows.push_back(r);
  }
  return {{"type", std::string(to_string(stream.type))},
          {"data", {{"orgSlug", dep.org_slug}, {"depSlug", dep.dep_slug}, {"rows", rows}}}};
}

TEST(encoder, bodies_parse_to_the_document_nlohmann_builds) {
  std::mt19937_64 random(20260101);
  for (int round = 0; round < 40; ++round) {
    auto p = testing::small_profile(2, 300'000, 3.0);
    p.seed = random();
    p.orgs[0].slug = "org " + random_text(random);
    p.orgs[0].deployments[1].slug = "dep \"2\" " + random_text(random);
    p.viewers.kind = static_cast<identifier_kind>(random() % 5);
    p.viewers.pattern = random_text(random) + "{n}";
    p.session.rules[0].name = random_text(random);
    p.session.rules[0].scenes = {random_text(random), random_text(random)};
    p.session.rules[1].cid = static_cast<std::int64_t>(random());
    p.session.browsers = {{random_text(random), 1}};
    variable_spec any;
    any.name = "v " + random_text(random);
    any.value.type = value_spec::kind::enumeration;
    for (int i = 0; i < 5; ++i) any.value.values_json.push_back(random_json(random).dump());
    variable_spec real;
    real.name = "ratio";
    real.value.type = value_spec::kind::floating;
    real.value.number = {distribution_kind::normal, -1e300, 1e300, 0, 1e200};
    variable_spec text;
    text.name = "nick";
    text.value.type = value_spec::kind::string;
    text.value.unicode = true;
    variable_spec nested;
    nested.name = "profile";
    nested.value.type = value_spec::kind::object;
    nested.value.fields = {{"age", p.session.variables[0].value}, {"why \"", any.value}};
    p.session.variables.insert(p.session.variables.end(), {any, real, text, nested});

    scenario model(p);
    encoder body_encoder(model);
    std::vector<page> pages;
    merge_scratch scratch;
    for (const auto& s : model.streams()) {
      deployment_generator g(model, s.deployment);
      std::vector<event> events;
      g.generate_until(p.duration, events);
      aggregator a(s, 1 + static_cast<int>(random() % 50));
      for (const auto& e : events) {
        if (e.type == s.type) a.add(e);
      }
      a.flush(p.duration, pages, scratch);
    }
    ASSERT_FALSE(pages.empty());
    std::string body;
    for (const auto& pg : pages) {
      body_encoder.encode(pg, body);
      json parsed = json::parse(body);
      ASSERT_EQ(parsed, expected_body(model, pg)) << body;
      if (round < 5) {
        EXPECT_TRUE(validate_body(body).empty()) << validate_body(body)[0].reason;
      }
    }
  }
}

TEST(encoder, the_body_is_compact_and_exact_for_a_known_page) {
  auto p = testing::small_profile(1);
  p.session.rules = {rule_spec{7, "Rule \"A\"", {"scene 1"}, 1.0, 1}};
  p.start_time = 1'000'000;
  scenario model(p);
  encoder body_encoder(model);
  page pg;
  pg.stream = 1;  // acme/dep-1 rules
  pg.rows.push_back(page_row{0, 0, 1, 1, 5, 5, 0, 0});
  pg.items.push_back(page_item{5, 0, 0});
  std::string body;
  body_encoder.encode(pg, body);
  EXPECT_EQ(body, "{\"type\":\"rules\",\"data\":{\"orgSlug\":\"acme\",\"depSlug\":\"dep-1\",\"rows\":[{\"identifier\":\"" +
                      model.identifier(0) +
                      "\",\"rules\":[{\"cid\":7,\"cname\":\"Rule \\\"A\\\"\",\"scene_name\":\"scene 1\",\"timestamp\":1000005}]}]}}");
}

}  // namespace
}  // namespace gmsim
