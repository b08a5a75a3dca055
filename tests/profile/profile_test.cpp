#include "profile/profile.hpp"
#include "profile/profile_reader.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "profile/profile_json.hpp"

namespace gmsim {
namespace {

using detail::parse_located_json;

// The message parse_profile() gives for text, or "" if it parsed.
std::string error_of(std::string_view text, std::string_view source = "x.json") {
  try {
    parse_profile(text, source);
  } catch (const profile_error& e) {
    return e.what();
  }
  return "";
}

std::string json_error_of(std::string_view text) {
  try {
    parse_located_json(text, "t.json");
  } catch (const profile_error& e) {
    return e.what();
  }
  return "";
}

// ---- the JSON reader ----

TEST(profile_json, values_and_lines_by_path) {
  const auto doc = parse_located_json(R"({
  "a": 1,  // a comment
  /* a block
     comment */ "b": [true, null,
    {"c": "x"}],
  "d": -2.5e1
})",
                                      "t.json");
  EXPECT_EQ(doc.value["a"], 1);
  EXPECT_EQ(doc.value["b"][0], true);
  EXPECT_TRUE(doc.value["b"][1].is_null());
  EXPECT_EQ(doc.value["b"][2]["c"], "x");
  EXPECT_EQ(doc.value["d"], -25.0);
  EXPECT_EQ(doc.lines.at(""), 1);
  EXPECT_EQ(doc.lines.at("a"), 2);
  EXPECT_EQ(doc.lines.at("b"), 4);
  EXPECT_EQ(doc.lines.at("b[1]"), 4);
  EXPECT_EQ(doc.lines.at("b[2]"), 5);
  EXPECT_EQ(doc.lines.at("b[2].c"), 5);
  EXPECT_EQ(doc.lines.at("d"), 6);
}

TEST(profile_json, keeps_key_order) {
  const auto doc = parse_located_json(R"({"z": 1, "a": {"y": 2, "b": 3}})", "t.json");
  EXPECT_EQ(doc.value.dump(), R"({"z":1,"a":{"y":2,"b":3}})");
}

TEST(profile_json, numbers_stay_exact) {
  const auto doc = parse_located_json(
      R"([18446744073709551615, -9223372036854775808, 9007199254740993, 0, -0, 1.5,
          18446744073709551616, 1E2])",
      "t.json");
  EXPECT_EQ(doc.value[0].get<std::uint64_t>(), 18446744073709551615ULL);
  EXPECT_EQ(doc.value[1].get<std::int64_t>(), INT64_MIN);
  EXPECT_EQ(doc.value[2].dump(), "9007199254740993");
  EXPECT_TRUE(doc.value[3].is_number_unsigned());
  EXPECT_TRUE(doc.value[5].is_number_float());
  EXPECT_TRUE(doc.value[6].is_number_float());
  EXPECT_EQ(doc.value[7].get<double>(), 100.0);
}

TEST(profile_json, string_escapes_and_utf8) {
  const auto doc = parse_located_json(
      R"(["a\"b\\c\/d\b\f\n\r\t", "\u00e9\u2028", "\ud83d\ude00", "é😀", "\u0000"])", "t.json");
  EXPECT_EQ(doc.value[0], "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(doc.value[1], "\xC3\xA9\xE2\x80\xA8");
  EXPECT_EQ(doc.value[2], "\xF0\x9F\x98\x80");
  EXPECT_EQ(doc.value[3], "\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(doc.value[4].get<std::string>(), std::string(1, '\0'));
  EXPECT_EQ(parse_located_json("\xEF\xBB\xBF{}", "t.json").value, detail::profile_json::object());
}

TEST(profile_json, syntax_errors_give_line_and_column) {
  EXPECT_EQ(json_error_of("{\n  \"a\": 1\n  \"b\": 2\n}"),
            "t.json:3:3: syntax error: expected ',' or '}', got '\"'");
  EXPECT_EQ(json_error_of("{\"a\": 1,}"), "t.json:1:9: syntax error: trailing comma before '}'");
  EXPECT_EQ(json_error_of("[1, 2,\n]"), "t.json:2:1: syntax error: trailing comma before ']'");
  EXPECT_EQ(json_error_of("{a: 1}"),
            "t.json:1:2: syntax error: expected a key in double quotes, got 'a'");
  EXPECT_EQ(json_error_of("{\"a\": 'x'}"),
            "t.json:1:7: syntax error: strings take double quotes, not single quotes");
  EXPECT_EQ(json_error_of("{\"a\": True}"),
            "t.json:1:7: syntax error: expected a value, got 'True'");
  EXPECT_EQ(json_error_of("{\"a\" 1}"),
            "t.json:1:6: syntax error: expected ':' after key 'a', got '1'");
  EXPECT_EQ(json_error_of(""),
            "t.json:1:1: syntax error: unexpected end of input; expected a value");
  EXPECT_EQ(json_error_of("{} x"),
            "t.json:1:4: syntax error: unexpected 'x' after the end of the document");
  EXPECT_EQ(json_error_of("// only\n{\n  \"a\": [1,\n"),
            "t.json:4:1: syntax error: unexpected end of input; the array opened at line 3:8 is "
            "not closed");
  EXPECT_EQ(json_error_of("{\"é\": 1 2}"),
            "t.json:1:9: syntax error: expected ',' or '}', got '2'");
}

TEST(profile_json, number_errors) {
  EXPECT_EQ(json_error_of("[01]"), "t.json:1:2: syntax error: numbers cannot start with 0");
  EXPECT_EQ(json_error_of("[1.]"), "t.json:1:4: syntax error: expected a digit after '.'");
  EXPECT_EQ(json_error_of("[-]"), "t.json:1:3: syntax error: expected a digit after '-'");
  EXPECT_EQ(json_error_of("[1e]"), "t.json:1:4: syntax error: expected a digit in the exponent");
  EXPECT_EQ(json_error_of("[1e999]"), "t.json:1:2: syntax error: number out of range");
  EXPECT_EQ(json_error_of("[.5]"), "t.json:1:2: syntax error: expected a value, got '.'");
  EXPECT_EQ(json_error_of("[NaN]"), "t.json:1:2: syntax error: expected a value, got 'NaN'");
}

TEST(profile_json, string_errors) {
  EXPECT_EQ(json_error_of("[\n  \"abc\n\"]"),
            "t.json:2:3: syntax error: unterminated string (write a line break as \\n)");
  EXPECT_EQ(json_error_of("[\"abc"), "t.json:1:2: syntax error: unterminated string");
  EXPECT_EQ(json_error_of("[\"a\tb\"]"),
            "t.json:1:4: syntax error: control character U+0009 in a string; write it as \\u0009");
  EXPECT_EQ(json_error_of(R"(["\x"])"),
            "t.json:1:4: syntax error: invalid escape '\\x' in a string");
  EXPECT_EQ(json_error_of(R"(["\u12G4"])"),
            "t.json:1:7: syntax error: expected four hex digits after \\u");
  EXPECT_EQ(json_error_of(R"(["ab\ud83d"])"),
            "t.json:1:5: syntax error: \\u escape is a high surrogate without its low surrogate");
  EXPECT_EQ(json_error_of(R"(["\ud83d\u0041"])"),
            "t.json:1:3: syntax error: \\u escape is a high surrogate without its low surrogate");
  EXPECT_EQ(json_error_of(R"(["\ude00"])"),
            "t.json:1:3: syntax error: \\u escape is an unpaired low surrogate");
  EXPECT_EQ(json_error_of("[\"\xC3\"]"), "t.json:1:3: syntax error: invalid UTF-8 in a string");
  EXPECT_EQ(json_error_of("[\"\xC0\x80\"]"), "t.json:1:3: syntax error: invalid UTF-8 in a string");
  EXPECT_EQ(json_error_of("[\"\xED\xA0\x80\"]"),
            "t.json:1:3: syntax error: invalid UTF-8 in a string");
  EXPECT_EQ(json_error_of("[\"\xF4\x90\x80\x80\"]"),
            "t.json:1:3: syntax error: invalid UTF-8 in a string");
}

TEST(profile_json, comment_errors) {
  EXPECT_EQ(json_error_of("{\n  /* open\n}"), "t.json:2:3: syntax error: unterminated /* comment");
  EXPECT_EQ(json_error_of("{} / x"),
            "t.json:1:4: syntax error: unexpected '/'; comments start with // or /*");
  EXPECT_EQ(parse_located_json("{} // the end, no newline", "t.json").value.size(), 0u);
}

TEST(profile_json, duplicate_keys) {
  EXPECT_EQ(json_error_of("{\n  \"a\": {\n    \"b\": 1,\n\n    \"b\": 2\n  }\n}"),
            "t.json:5: a.b: duplicate key 'b' (first at line 3)");
  EXPECT_EQ(json_error_of("{\"a\": 1, \"a\": 1}"),
            "t.json:1: a: duplicate key 'a' (first at line 1)");
  EXPECT_EQ(json_error_of(R"([{"a": 1}, {"a": 2}])"), "");  // same key, different objects
}

TEST(profile_json, nesting_is_bounded) {
  EXPECT_EQ(json_error_of(std::string(127, '[') + std::string(127, ']')), "");
  EXPECT_EQ(json_error_of(std::string(200, '[') + std::string(200, ']')),
            "t.json:1:129: syntax error: nested more than 128 levels deep");
}

// ---- profiles ----

constexpr std::string_view full_example = R"({
  "name": "quiz-load", "description": "one line",
  "seed": 42,
  "start_time": "2026-03-01T10:00:00.250Z",
  "duration": "1h30m",
  "delivery": { "max_delay": "30s", "batch_rows": 200, "min_gap": "100ms", "timeout": "10s",
                "in_flight": 2, "align_ticks": true },
  "orgs": [ { "slug": "gmetri", "deployments": [ "gmetridemo",
                { "slug": "quiz", "types": ["variables", "rules"], "weight": 2 } ] },
            { "slug": "acme", "deployments": { "count": 3, "pattern": "d{n}x", "types": ["session"] } } ],
  "viewers": { "count": 5000, "identifier": "custom", "domain": "corp.test", "pattern": "v-{hex}" },
  "arrival": { "process": "constant", "rate": "120/m",
               "stages": [ {"duration": "5m", "rate": "10/s"}, {"duration": 60000, "rate": 0} ],
               "spikes": [ {"at": "10m", "duration": "1m", "factor": 10}, {"at": 0, "duration": "1s"} ] },
  "session": {
    "length": {"dist": "normal", "mean": "5m", "stddev": "1m", "max": "8m"},
    "variables": [
      {"name": "score", "type": "int", "min": 0, "max": 100, "dist": "normal", "mean": 60, "stddev": 15,
       "changes": [1, 5], "when": "spread"},
      {"name": "quizCompleted", "type": "bool", "p_true": 0.7, "when": "end"},
      {"name": "ratio", "type": "float", "min": 0, "max": 1, "decimals": 2, "changes": 3, "when": "start"},
      {"name": "nickname", "type": "string", "min_length": 3, "max_length": 10, "unicode": true},
      {"name": "level", "type": "enum", "values": ["easy", "hard", 3, null, {"b": 1, "a": 2}],
       "weights": [3, 1, 1, 1, 1]},
      {"name": "profile", "type": "object", "fields": {"city": {"type": "enum", "values": ["Pune", "Oslo"]},
                                                      "age": {"type": "int", "min": 18, "max": 65}}}
    ],
    "rules": [ {"cid": 7, "name": "Rule A", "scenes": ["scene 1", "scene 2"], "probability": 0.8, "repeat": 2} ],
    "browsers": ["CHROME", {"name": "SAFARI", "weight": 2}],
    "platforms": ["ANDROID", "IOS", "OCULUS_QUEST"],
    "send_on_end": true
  }
})";

TEST(profile_parse, full_example) {
  const profile p = parse_profile(full_example, "profiles/quiz.json");
  EXPECT_EQ(p.name, "quiz-load");
  EXPECT_EQ(p.source, "profiles/quiz.json");
  EXPECT_EQ(p.description, "one line");
  EXPECT_EQ(p.seed, 42u);
  EXPECT_EQ(p.start_time, 1'772'359'200'250);
  EXPECT_EQ(p.duration, 5'400'000);

  EXPECT_EQ(p.delivery.max_delay, 30'000);
  EXPECT_EQ(p.delivery.batch_rows, 200);
  EXPECT_EQ(p.delivery.min_gap, 100);
  EXPECT_EQ(p.delivery.timeout, 10'000);
  EXPECT_EQ(p.delivery.in_flight, 2);
  EXPECT_TRUE(p.delivery.align_ticks);

  ASSERT_EQ(p.orgs.size(), 2u);
  EXPECT_EQ(p.orgs[0].slug, "gmetri");
  ASSERT_EQ(p.orgs[0].deployments.size(), 2u);
  EXPECT_EQ(p.orgs[0].deployments[0].slug, "gmetridemo");
  EXPECT_EQ(p.orgs[0].deployments[0].types, (std::array<bool, 3>{true, true, true}));
  EXPECT_EQ(p.orgs[0].deployments[0].weight, 1.0);
  EXPECT_EQ(p.orgs[0].deployments[1].slug, "quiz");
  EXPECT_EQ(p.orgs[0].deployments[1].types, (std::array<bool, 3>{true, true, false}));
  EXPECT_EQ(p.orgs[0].deployments[1].weight, 2.0);
  EXPECT_EQ(p.orgs[1].slug, "acme");
  ASSERT_EQ(p.orgs[1].deployments.size(), 3u);
  EXPECT_EQ(p.orgs[1].deployments[0].slug, "d1x");
  EXPECT_EQ(p.orgs[1].deployments[2].slug, "d3x");
  EXPECT_EQ(p.orgs[1].deployments[2].types, (std::array<bool, 3>{false, false, true}));

  EXPECT_EQ(p.viewers.count, 5000u);
  EXPECT_EQ(p.viewers.kind, identifier_kind::custom);
  EXPECT_EQ(p.viewers.domain, "corp.test");
  EXPECT_EQ(p.viewers.pattern, "v-{hex}");

  EXPECT_EQ(p.arrival.process, arrival_process::constant);
  EXPECT_DOUBLE_EQ(p.arrival.rate, 2.0);
  ASSERT_EQ(p.arrival.stages.size(), 2u);
  EXPECT_EQ(p.arrival.stages[0].duration, 300'000);
  EXPECT_DOUBLE_EQ(p.arrival.stages[0].rate, 10.0);
  EXPECT_EQ(p.arrival.stages[1].duration, 60'000);
  EXPECT_DOUBLE_EQ(p.arrival.stages[1].rate, 0.0);
  ASSERT_EQ(p.arrival.spikes.size(), 2u);
  EXPECT_EQ(p.arrival.spikes[0].at, 600'000);
  EXPECT_EQ(p.arrival.spikes[0].duration, 60'000);
  EXPECT_DOUBLE_EQ(p.arrival.spikes[0].factor, 10.0);
  EXPECT_EQ(p.arrival.spikes[1].at, 0);
  EXPECT_DOUBLE_EQ(p.arrival.spikes[1].factor, 10.0);  // the default

  const session_spec& s = p.session;
  EXPECT_EQ(s.length_ms.kind, distribution_kind::normal);
  EXPECT_DOUBLE_EQ(s.length_ms.mean, 300'000);
  EXPECT_DOUBLE_EQ(s.length_ms.stddev, 60'000);
  EXPECT_DOUBLE_EQ(s.length_ms.min, 0);  // mean - 5 stddev, floored at 0
  EXPECT_DOUBLE_EQ(s.length_ms.max, 480'000);

  ASSERT_EQ(s.variables.size(), 6u);
  const variable_spec& score = s.variables[0];
  EXPECT_EQ(score.name, "score");
  EXPECT_EQ(score.value.type, value_spec::kind::integer);
  EXPECT_EQ(score.value.number.kind, distribution_kind::normal);
  EXPECT_DOUBLE_EQ(score.value.number.min, 0);
  EXPECT_DOUBLE_EQ(score.value.number.max, 100);
  EXPECT_DOUBLE_EQ(score.value.number.mean, 60);
  EXPECT_DOUBLE_EQ(score.value.number.stddev, 15);
  EXPECT_EQ(score.changes_min, 1);
  EXPECT_EQ(score.changes_max, 5);
  EXPECT_EQ(score.when, change_timing::spread);

  const variable_spec& completed = s.variables[1];
  EXPECT_EQ(completed.value.type, value_spec::kind::boolean);
  EXPECT_DOUBLE_EQ(completed.value.p_true, 0.7);
  EXPECT_EQ(completed.changes_min, 1);
  EXPECT_EQ(completed.changes_max, 1);
  EXPECT_EQ(completed.when, change_timing::end);

  const variable_spec& ratio = s.variables[2];
  EXPECT_EQ(ratio.value.type, value_spec::kind::floating);
  EXPECT_EQ(ratio.value.number.kind, distribution_kind::uniform);
  EXPECT_DOUBLE_EQ(ratio.value.number.max, 1);
  EXPECT_EQ(ratio.value.decimals, 2);
  EXPECT_EQ(ratio.changes_min, 3);
  EXPECT_EQ(ratio.changes_max, 3);
  EXPECT_EQ(ratio.when, change_timing::start);

  const variable_spec& nickname = s.variables[3];
  EXPECT_EQ(nickname.value.type, value_spec::kind::string);
  EXPECT_EQ(nickname.value.min_length, 3);
  EXPECT_EQ(nickname.value.max_length, 10);
  EXPECT_TRUE(nickname.value.unicode);

  const variable_spec& level = s.variables[4];
  EXPECT_EQ(level.value.type, value_spec::kind::enumeration);
  EXPECT_EQ(level.value.values_json,
            (std::vector<std::string>{"\"easy\"", "\"hard\"", "3", "null", R"({"b":1,"a":2})"}));
  EXPECT_EQ(level.value.weights, (std::vector<double>{3, 1, 1, 1, 1}));

  const variable_spec& object = s.variables[5];
  EXPECT_EQ(object.value.type, value_spec::kind::object);
  ASSERT_EQ(object.value.fields.size(), 2u);
  EXPECT_EQ(object.value.fields[0].first, "city");  // in the order written
  EXPECT_EQ(object.value.fields[0].second.values_json,
            (std::vector<std::string>{"\"Pune\"", "\"Oslo\""}));
  EXPECT_TRUE(object.value.fields[0].second.weights.empty());
  EXPECT_EQ(object.value.fields[1].first, "age");
  EXPECT_EQ(object.value.fields[1].second.type, value_spec::kind::integer);
  EXPECT_DOUBLE_EQ(object.value.fields[1].second.number.min, 18);
  EXPECT_DOUBLE_EQ(object.value.fields[1].second.number.max, 65);

  ASSERT_EQ(s.rules.size(), 1u);
  EXPECT_EQ(s.rules[0].cid, 7);
  EXPECT_EQ(s.rules[0].name, "Rule A");
  EXPECT_EQ(s.rules[0].scenes, (std::vector<std::string>{"scene 1", "scene 2"}));
  EXPECT_DOUBLE_EQ(s.rules[0].probability, 0.8);
  EXPECT_EQ(s.rules[0].repeat_max, 2);

  ASSERT_EQ(s.browsers.size(), 2u);
  EXPECT_EQ(s.browsers[0].name, "CHROME");
  EXPECT_DOUBLE_EQ(s.browsers[0].weight, 1);
  EXPECT_EQ(s.browsers[1].name, "SAFARI");
  EXPECT_DOUBLE_EQ(s.browsers[1].weight, 2);
  ASSERT_EQ(s.platforms.size(), 3u);
  EXPECT_EQ(s.platforms[2].name, "OCULUS_QUEST");
  EXPECT_TRUE(s.send_on_end);
}

TEST(profile_parse, empty_object_gives_the_defaults) {
  const profile p = parse_profile("{}", "dir/my-profile.json");
  EXPECT_EQ(p.name, "my-profile");
  EXPECT_EQ(p.source, "dir/my-profile.json");
  EXPECT_EQ(p.description, "");
  EXPECT_EQ(p.seed, 1u);
  EXPECT_EQ(p.start_time, 1'767'225'600'000);
  EXPECT_EQ(p.duration, 600'000);
  EXPECT_EQ(p.delivery.max_delay, 60'000);
  EXPECT_EQ(p.delivery.batch_rows, 500);
  EXPECT_EQ(p.delivery.min_gap, 200);
  EXPECT_EQ(p.delivery.timeout, 30'000);
  EXPECT_EQ(p.delivery.in_flight, 1);
  EXPECT_FALSE(p.delivery.align_ticks);

  ASSERT_EQ(p.orgs.size(), 1u);
  EXPECT_EQ(p.orgs[0].slug, "gmetri");
  ASSERT_EQ(p.orgs[0].deployments.size(), 1u);
  EXPECT_EQ(p.orgs[0].deployments[0].slug, "gmetridemo");
  EXPECT_EQ(p.orgs[0].deployments[0].types, (std::array<bool, 3>{true, true, true}));

  EXPECT_EQ(p.viewers.count, 1000u);
  EXPECT_EQ(p.viewers.kind, identifier_kind::email);
  EXPECT_EQ(p.arrival.process, arrival_process::poisson);
  EXPECT_DOUBLE_EQ(p.arrival.rate, 1.0);
  EXPECT_TRUE(p.arrival.stages.empty());
  EXPECT_TRUE(p.arrival.spikes.empty());

  const session_spec& s = p.session;
  EXPECT_EQ(s.length_ms.kind, distribution_kind::uniform);
  EXPECT_DOUBLE_EQ(s.length_ms.min, 60'000);
  EXPECT_DOUBLE_EQ(s.length_ms.max, 600'000);
  ASSERT_EQ(s.variables.size(), 2u);
  EXPECT_EQ(s.variables[0].name, "score");
  EXPECT_EQ(s.variables[0].value.type, value_spec::kind::integer);
  EXPECT_EQ(s.variables[0].value.number.kind, distribution_kind::uniform);
  EXPECT_DOUBLE_EQ(s.variables[0].value.number.min, 0);
  EXPECT_DOUBLE_EQ(s.variables[0].value.number.max, 100);
  EXPECT_EQ(s.variables[0].changes_min, 1);
  EXPECT_EQ(s.variables[0].changes_max, 5);
  EXPECT_EQ(s.variables[0].when, change_timing::spread);
  EXPECT_EQ(s.variables[1].name, "quizCompleted");
  EXPECT_EQ(s.variables[1].value.type, value_spec::kind::boolean);
  EXPECT_DOUBLE_EQ(s.variables[1].value.p_true, 0.6);
  EXPECT_EQ(s.variables[1].changes_max, 1);
  EXPECT_EQ(s.variables[1].when, change_timing::end);
  ASSERT_EQ(s.rules.size(), 2u);
  EXPECT_EQ(s.rules[0].cid, 1);
  EXPECT_EQ(s.rules[0].name, "Scene Entered");
  EXPECT_EQ(s.rules[0].scenes, (std::vector<std::string>{"scene 1", "scene 2", "scene 3"}));
  EXPECT_EQ(s.rules[0].repeat_max, 3);
  EXPECT_EQ(s.rules[1].cid, 2);
  EXPECT_EQ(s.rules[1].name, "Quiz Submitted");
  EXPECT_DOUBLE_EQ(s.rules[1].probability, 0.5);
  ASSERT_EQ(s.browsers.size(), 6u);
  EXPECT_EQ(s.browsers[0].name, "CHROME");
  EXPECT_DOUBLE_EQ(s.browsers[0].weight, 5);
  EXPECT_EQ(s.browsers[5].name, "SAMSUNG_INTERNET");
  ASSERT_EQ(s.platforms.size(), 7u);
  EXPECT_EQ(s.platforms[0].name, "WINDOWS");
  EXPECT_DOUBLE_EQ(s.platforms[0].weight, 3);
  EXPECT_EQ(s.platforms[6].name, "VISION_OS");
  EXPECT_FALSE(s.send_on_end);
}

TEST(profile_parse, empty_lists_mean_none_and_keep_other_defaults) {
  const profile p = parse_profile(
      R"({"session": {"variables": [], "rules": [], "browsers": [], "platforms": []}})", "x.json");
  EXPECT_TRUE(p.session.variables.empty());
  EXPECT_TRUE(p.session.rules.empty());
  EXPECT_TRUE(p.session.browsers.empty());
  EXPECT_TRUE(p.session.platforms.empty());
  EXPECT_DOUBLE_EQ(p.session.length_ms.max, 600'000);

  const profile only_rules = parse_profile(R"({"session": {"rules": []}})", "x.json");
  EXPECT_EQ(only_rules.session.variables.size(), 2u);
  EXPECT_EQ(only_rules.session.browsers.size(), 6u);
}

TEST(profile_parse, alternative_forms) {
  const profile p = parse_profile(R"({
    "seed": "18446744073709551615", "start_time": 1767225600000, "duration": 90000,
    "orgs": {"count": 3, "deployments": {"count": 2}},
    "arrival": {"rate": 0, "stages": [{"duration": "1m", "rate": 5}]},
    "session": {"length": "5m", "variables": [
      {"name": "a", "type": "float", "dist": "exponential", "mean": 2},
      {"name": "b", "type": "int", "dist": "constant", "value": 7},
      {"name": "c", "type": "int", "min": 1e3, "max": 2000.0},
      {"name": "d", "type": "int", "dist": "normal", "mean": 10.5, "stddev": 0.5}]}
  })",
                                  "x.json");
  EXPECT_EQ(p.seed, 18446744073709551615ULL);
  EXPECT_EQ(p.start_time, 1'767'225'600'000);
  EXPECT_EQ(p.duration, 90'000);
  ASSERT_EQ(p.orgs.size(), 3u);
  EXPECT_EQ(p.orgs[2].slug, "org-3");
  ASSERT_EQ(p.orgs[2].deployments.size(), 2u);
  EXPECT_EQ(p.orgs[2].deployments[1].slug, "dep-2");
  EXPECT_EQ(p.session.length_ms.kind, distribution_kind::constant);
  EXPECT_DOUBLE_EQ(p.session.length_ms.mean, 300'000);
  EXPECT_DOUBLE_EQ(p.session.length_ms.min, 300'000);
  EXPECT_DOUBLE_EQ(p.session.length_ms.max, 300'000);
  const auto& a = p.session.variables[0].value.number;
  EXPECT_EQ(a.kind, distribution_kind::exponential);
  EXPECT_DOUBLE_EQ(a.mean, 2);
  EXPECT_DOUBLE_EQ(a.min, 0);
  EXPECT_DOUBLE_EQ(a.max, 20);
  const auto& b = p.session.variables[1].value.number;
  EXPECT_EQ(b.kind, distribution_kind::constant);
  EXPECT_DOUBLE_EQ(b.mean, 7);
  EXPECT_DOUBLE_EQ(p.session.variables[2].value.number.min, 1000);
  EXPECT_DOUBLE_EQ(p.session.variables[2].value.number.max, 2000);
  const auto& d = p.session.variables[3].value.number;  // moments of an int need not be whole
  EXPECT_DOUBLE_EQ(d.mean, 10.5);
  EXPECT_DOUBLE_EQ(d.stddev, 0.5);
  EXPECT_DOUBLE_EQ(d.min, 8);
  EXPECT_DOUBLE_EQ(d.max, 13);

  const profile uniform_length =
      parse_profile(R"({"session": {"length": {"min": 1000, "max": "2s"}}})", "x.json");
  EXPECT_EQ(uniform_length.session.length_ms.kind, distribution_kind::uniform);
  EXPECT_DOUBLE_EQ(uniform_length.session.length_ms.min, 1'000);
  EXPECT_DOUBLE_EQ(uniform_length.session.length_ms.max, 2'000);
}

TEST(profile_parse, every_builtin_parses) {
  ASSERT_FALSE(embedded_profiles().empty());
  for (const auto& builtin : embedded_profiles()) {
    SCOPED_TRACE(std::string(builtin.name));
    const profile p = load_profile(builtin.name);
    EXPECT_EQ(p.name, builtin.name);
    EXPECT_EQ(p.source, "builtin:" + std::string(builtin.name));
    EXPECT_FALSE(p.description.empty()) << "`gmsim profiles` lists the description";
  }
}

TEST(profile_parse, quickstart_is_small) {
  const profile p = load_profile("quickstart");
  EXPECT_EQ(p.duration, 30'000);
}

// docs/profiles.md, found from this file's path, so that the documentation cannot drift.
std::vector<std::string> doc_code_blocks(std::string_view fence) {
  const auto path =
      std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "docs" / "profiles.md";
  std::ifstream in(path);
  std::vector<std::string> blocks;
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside && line == "```" + std::string(fence)) {
      inside = true;
      blocks.emplace_back();
    } else if (inside && line == "```") {
      inside = false;
    } else if (inside) {
      blocks.back() += line + "\n";
    }
  }
  return blocks;
}

TEST(profile_parse, documented_example_parses) {
  const auto examples = doc_code_blocks("jsonc");
  ASSERT_EQ(examples.size(), 1u);
  const profile p = parse_profile(examples[0], "docs/profiles.md");
  EXPECT_EQ(p.name, "quiz-load");
  EXPECT_EQ(p.orgs.size(), 2u);
  EXPECT_EQ(p.orgs[1].deployments.size(), 10u);
  EXPECT_EQ(p.session.variables.size(), 6u);
}

TEST(profile_parse, documented_defaults_are_the_defaults) {
  auto blocks = doc_code_blocks("json");
  ASSERT_EQ(blocks.size(), 3u);
  // The last: the experience script's example, which must read as documented.
  const profile script = parse_profile(blocks[2], "docs/profiles.md");
  ASSERT_EQ(script.session.scenes.size(), 3u);
  EXPECT_EQ(script.session.scenes[2].name, "results");
  EXPECT_EQ(script.session.variables[0].value.type, value_spec::kind::scene);
  EXPECT_EQ(script.session.variables[1].scene, 1);
  EXPECT_EQ(script.session.rules[0].on, rule_trigger::enter);
  EXPECT_EQ(script.session.rules[2].if_variable, 2);
  EXPECT_EQ(script.session.rules[2].if_equals_json, "true");
  EXPECT_EQ(script.session.rules[3].after_rule, 2);
  // The first two: the default variables and rules.
  const profile defaults = parse_profile("{}", "x.json");
  const profile variables =
      parse_profile("{\"session\": {\"variables\": " + blocks[0] + "}}", "x.json");
  ASSERT_EQ(variables.session.variables.size(), defaults.session.variables.size());
  for (std::size_t i = 0; i < defaults.session.variables.size(); ++i) {
    const variable_spec& a = variables.session.variables[i];
    const variable_spec& b = defaults.session.variables[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.value.type, b.value.type);
    EXPECT_EQ(a.value.number.kind, b.value.number.kind);
    EXPECT_EQ(a.value.number.min, b.value.number.min);
    EXPECT_EQ(a.value.number.max, b.value.number.max);
    EXPECT_EQ(a.value.p_true, b.value.p_true);
    EXPECT_EQ(a.changes_min, b.changes_min);
    EXPECT_EQ(a.changes_max, b.changes_max);
    EXPECT_EQ(a.when, b.when);
  }
  // In the default script's scenes, as documented.
  const profile rules = parse_profile(
      R"({"session": {"scenes": ["scene 1", "scene 2", "scene 3", "quiz"], "rules": )" + blocks[1] +
          "}}",
      "x.json");
  std::vector<std::string> default_scenes;
  for (const auto& scene : defaults.session.scenes) default_scenes.push_back(scene.name);
  EXPECT_EQ(default_scenes, (std::vector<std::string>{"scene 1", "scene 2", "scene 3", "quiz"}));
  ASSERT_EQ(rules.session.rules.size(), defaults.session.rules.size());
  for (std::size_t i = 0; i < defaults.session.rules.size(); ++i) {
    const rule_spec& a = rules.session.rules[i];
    const rule_spec& b = defaults.session.rules[i];
    EXPECT_EQ(a.cid, b.cid);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.scenes, b.scenes);
    EXPECT_EQ(a.probability, b.probability);
    EXPECT_EQ(a.repeat_max, b.repeat_max);
    EXPECT_EQ(a.on, b.on);
    EXPECT_EQ(a.scene_index, b.scene_index);
  }
}

// ---- errors: file, line, field path, reason ----

TEST(profile_errors, the_brief_examples) {
  EXPECT_EQ(
      error_of("{\n  \"delivery\": {\n    \"max_delay\": \"6o s\"\n  }\n}", "profiles/x.json"),
      "profiles/x.json:3: delivery.max_delay: expected a duration such as \"60s\", got \"6o s\"");
  EXPECT_EQ(error_of(R"({
  "session": {
    "variables": [
      {"name": "a", "type": "bool"}, {"name": "b", "type": "bool"},
      {"name": "c", "type": "int", "chnages": 3}
    ]
  }
})"),
            "x.json:5: session.variables[2]: unknown key 'chnages'; did you mean 'changes'?");
}

TEST(profile_errors, unknown_keys) {
  EXPECT_EQ(error_of("{\"sesion\": {}}"),
            "x.json:1: unknown key 'sesion'; did you mean 'session'?");
  EXPECT_EQ(error_of("{\n\"delivery\": {\"maxDelay\": \"1s\"}}"),
            "x.json:2: delivery: unknown key 'maxDelay'; did you mean 'max_delay'?");
  EXPECT_EQ(error_of(R"({"viewers": {"colour": 1}})"),
            "x.json:1: viewers: unknown key 'colour'; valid keys: count, identifier, domain, "
            "pattern");
  EXPECT_EQ(error_of(R"({"session": {"variables": [{"name": "a", "type": "int", "p_true": 1}]}})"),
            "x.json:1: session.variables[0]: key 'p_true' does not apply to type \"int\" with "
            "dist \"uniform\"");
  EXPECT_EQ(error_of(R"({"session": {"variables": [{"name": "a", "type": "int", "mean": 1}]}})"),
            "x.json:1: session.variables[0]: key 'mean' does not apply to type \"int\" with dist "
            "\"uniform\"");
  EXPECT_EQ(error_of(R"({"session": {"length": {"min": "1m", "stddev": "1s"}}})"),
            "x.json:1: session.length: key 'stddev' does not apply to dist \"uniform\"");
  EXPECT_EQ(error_of(R"({"session": {"variables": [{"name": "a", "tpye": "int"}]}})"),
            "x.json:1: session.variables[0]: unknown key 'tpye'; did you mean 'type'?");
  EXPECT_EQ(error_of(R"({"session": {"variables": [{"name": "o", "type": "object",
              "fields": {"f": {"type": "int", "when": "end"}}}]}})"),
            "x.json:2: session.variables[0].fields.f: unknown key 'when'; valid keys: dist, min, "
            "max, type");
  EXPECT_EQ(error_of(R"({"orgs": [{"slug": "a", "deployments": [{"slug": "d", "wieght": 1}]}]})"),
            "x.json:1: orgs[0].deployments[0]: unknown key 'wieght'; did you mean 'weight'?");
}

TEST(profile_errors, wrong_types) {
  EXPECT_EQ(error_of("[]"), "x.json:1: expected an object, got an array");
  EXPECT_EQ(error_of(R"({"delivery": {"batch_rows": "500"}})"),
            "x.json:1: delivery.batch_rows: expected an integer, got \"500\"");
  EXPECT_EQ(error_of(R"({"delivery": {"batch_rows": 2.5}})"),
            "x.json:1: delivery.batch_rows: expected an integer, got 2.5");
  EXPECT_EQ(error_of(R"({"delivery": {"align_ticks": "yes"}})"),
            "x.json:1: delivery.align_ticks: expected true or false, got \"yes\"");
  EXPECT_EQ(error_of(R"({"delivery": []})"),
            "x.json:1: delivery: expected an object, got an array");
  EXPECT_EQ(error_of(R"({"duration": true})"),
            "x.json:1: duration: expected a duration such as \"60s\" or whole milliseconds, got "
            "true");
  EXPECT_EQ(error_of(R"({"duration": 1.5})"),
            "x.json:1: duration: expected a duration such as \"60s\" or whole milliseconds, got "
            "1.5");
  EXPECT_EQ(error_of(R"({"description": 5})"), "x.json:1: description: expected a string, got 5");
  EXPECT_EQ(error_of(R"({"session": {"variables": {}}})"),
            "x.json:1: session.variables: expected an array, got an object");
  EXPECT_EQ(error_of(R"({"session": {"variables": ["score"]}})"),
            "x.json:1: session.variables[0]: expected an object, got \"score\"");
  EXPECT_EQ(error_of(R"({"session": {"browsers": [5]}})"),
            "x.json:1: session.browsers[0]: expected a browser name or {\"name\", \"weight\"}, "
            "got 5");
  EXPECT_EQ(error_of(R"({"orgs": "gmetri"})"),
            "x.json:1: orgs: expected a list of orgs or {\"count\": N}, got \"gmetri\"");
  EXPECT_EQ(error_of(R"({"session": {"length": [1]}})"),
            "x.json:1: session.length: expected a duration such as \"5m\" or an object with "
            "\"dist\", got an array");
}

TEST(profile_errors, bad_choices) {
  EXPECT_EQ(error_of(R"({"viewers": {"identifier": "emial"}})"),
            "x.json:1: viewers.identifier: unknown value \"emial\"; did you mean \"email\"?");
  EXPECT_EQ(error_of(R"({"viewers": {"identifier": "name"}})"),
            "x.json:1: viewers.identifier: unknown value \"name\"; use \"email\", \"uuid\", "
            "\"phone\", \"anonymous\", \"custom\"");
  EXPECT_EQ(error_of(R"({"arrival": {"process": 1}})"),
            "x.json:1: arrival.process: expected one of \"constant\", \"poisson\", got 1");
  EXPECT_EQ(error_of(R"({"session": {"variables": [{"name": "a", "type": "integer"}]}})"),
            "x.json:1: session.variables[0].type: unknown value \"integer\"; use \"int\", "
            "\"float\", \"bool\", \"string\", \"enum\", \"object\", \"scene\"");
  EXPECT_EQ(error_of(R"({"session": {"variables": [{"name": "a", "type": "flaot"}]}})"),
            "x.json:1: session.variables[0].type: unknown value \"flaot\"; did you mean "
            "\"float\"?");
  EXPECT_EQ(
      error_of(R"({"session": {"variables": [{"name": "a", "type": "int", "dist": "gauss"}]}})"),
      "x.json:1: session.variables[0].dist: unknown value \"gauss\"; use \"constant\", "
      "\"uniform\", \"normal\", \"exponential\"");
  EXPECT_EQ(
      error_of(R"({"orgs": [{"slug": "a", "deployments": [{"slug": "d", "types": ["rule"]}]}]})"),
      "x.json:1: orgs[0].deployments[0].types[0]: unknown value \"rule\"; did you mean "
      "\"rules\"?");
}

// The modelling switches of docs/semantics.md: each read, each default gmsim 0.1's.
TEST(profile_parse, the_modelling_switches) {
  const profile defaults = parse_profile("{}", "x.json");
  EXPECT_EQ(defaults.delivery.variables, variables_rows::changed);
  EXPECT_EQ(defaults.delivery.flush, flush_mode::periodic);
  EXPECT_EQ(defaults.session.modified_at, session_modified::created);
  EXPECT_TRUE(defaults.session.extra_fields.empty());
  const profile p = parse_profile(R"({
    "delivery": {"variables": "snapshot", "flush": "eager"},
    "session": {"modified_at": "latest_event",
                "extra_fields": {"app_version": {"type": "enum", "values": ["2.3.1", "2.4.0"]},
                                 "locale": {"type": "enum", "values": ["en-IN"]}}}})",
                                  "x.json");
  EXPECT_EQ(p.delivery.variables, variables_rows::snapshot);
  EXPECT_EQ(p.delivery.flush, flush_mode::eager);
  EXPECT_EQ(p.session.modified_at, session_modified::latest_event);
  ASSERT_EQ(p.session.extra_fields.size(), 2u);
  EXPECT_EQ(p.session.extra_fields[0].first, "app_version");
  EXPECT_EQ(p.session.extra_fields[1].second.values_json, (std::vector<std::string>{"\"en-IN\""}));
}

TEST(profile_errors, the_modelling_switches) {
  EXPECT_EQ(error_of(R"({"delivery": {"flush": "eagre"}})"),
            "x.json:1: delivery.flush: unknown value \"eagre\"; did you mean \"eager\"?");
  EXPECT_EQ(error_of(R"({"delivery": {"variables": "all"}})"),
            "x.json:1: delivery.variables: unknown value \"all\"; use \"changed\", "
            "\"every_change\", \"snapshot\"");
  EXPECT_EQ(error_of(R"({"session": {"modified_at": "latest"}})"),
            "x.json:1: session.modified_at: unknown value \"latest\"; use \"created\", "
            "\"latest_event\"");
  EXPECT_EQ(error_of(R"({"session": {"extra_fields": {"uuid": {"type": "string"}}}})"),
            "x.json:1: session.extra_fields.uuid: \"uuid\" is one of the six documented session "
            "fields, which gmsim writes itself");
  EXPECT_EQ(error_of(R"({"session": {"extra_fields": {"model": {"type": "strin"}}}})"),
            "x.json:1: session.extra_fields.model.type: unknown value \"strin\"; did you mean "
            "\"string\"?");
  EXPECT_EQ(error_of(R"({"session": {"extra_fields": ["model"]}})"),
            "x.json:1: session.extra_fields: expected an object, got an array");
  EXPECT_EQ(error_of(R"({"session": {"devices": "free"}})"),
            "x.json:1: session.devices: unknown value \"free\"; use \"table\", \"free_draw\"");
  EXPECT_EQ(error_of(R"({"session": {"devices": [{"platform": "IOS"}]}})"),
            "x.json:1: session.devices[0]: missing 'browser'");
  EXPECT_EQ(error_of(R"({"session": {"devices": [{"platform": "IOS", "browser": "SAFARI"},
    {"platform": "IOS", "browser": "SAFARI", "weight": 2}]}})"),
            "x.json:2: session.devices[1]: duplicate device 'IOS with SAFARI' (also at line 1)");
  EXPECT_EQ(error_of(R"({"session": {"devices": []}})"),
            "x.json:1: session.devices: must list at least one device");
  EXPECT_EQ(error_of(R"({"session": {"devices": 3}})"),
            "x.json:1: session.devices: expected \"table\", \"free_draw\" or a list of "
            "{\"platform\", \"browser\", \"weight\"}, got 3");
}

// The experience script: names that must match, conditions that must come first.
TEST(profile_errors, the_experience_script) {
  const std::string scenes = R"("scenes": ["intro", "quiz"], )";
  EXPECT_EQ(error_of(R"({"session": {)" + scenes + R"("rules": [{"cid": 1, "name": "A", "scenes": ["quizz"]}]}})"),
            "x.json:1: session.rules[0].scenes[0]: unknown value \"quizz\"; did you mean \"quiz\"?");
  EXPECT_EQ(error_of(R"({"session": {"rules": [{"cid": 1, "name": "A", "scenes": ["q"], "on": "enter"}]}})"),
            "x.json:1: session.rules[0].on: needs session.scenes, the experience script");
  EXPECT_EQ(error_of(R"({"session": {"variables": [{"name": "v", "type": "int", "scene": "quiz"}]}})"),
            "x.json:1: session.variables[0].scene: needs session.scenes, the experience script "
            "that names scenes");
  EXPECT_EQ(error_of(R"({"session": {"variables": [{"name": "s", "type": "scene"}]}})"),
            "x.json:1: session.variables[0].type: \"scene\" needs session.scenes");
  EXPECT_EQ(error_of(R"({"session": {"extra_fields": {"s": {"type": "scene"}}}})"),
            "x.json:1: session.extra_fields.s.type: \"scene\" is a session variable's type only "
            "(the scene entered)");
  EXPECT_EQ(error_of(R"({"session": {)" + scenes +
                     R"("rules": [{"cid": 1, "name": "A", "scenes": ["quiz"], "if": {"variable": "scor", "equals": 1}}]}})"),
            "x.json:1: session.rules[0].if.variable: unknown value \"scor\"; did you mean \"score\"?");
  EXPECT_EQ(error_of(R"({"session": {)" + scenes + R"("rules": [
    {"cid": 1, "name": "A", "scenes": ["quiz"], "after": "B"},
    {"cid": 2, "name": "B", "scenes": ["quiz"]}]}})"),
            "x.json:2: session.rules[0].after: names a rule listed before this one: there is none");
  EXPECT_EQ(error_of(R"({"session": {"scenes": ["lobby"]}})"),
            "x.json:1: session.scenes: the default rule \"Scene Entered\" fires in scene \"scene 1\": "
            "list it, or give rules of your own");
  EXPECT_EQ(error_of(R"({"session": {"scenes": ["a", "a"]}})"),
            "x.json:1: session.scenes[1]: duplicate scene 'a' (also at line 1)");
}

TEST(profile_errors, missing_keys) {
  EXPECT_EQ(error_of(R"({"session": {"variables": [{"name": "a"}]}})"),
            "x.json:1: session.variables[0]: missing 'type'; use int, float, bool, string, enum or "
            "object");
  EXPECT_EQ(error_of(R"({"session": {"variables": [{"type": "int"}]}})"),
            "x.json:1: session.variables[0]: missing 'name'");
  EXPECT_EQ(error_of(R"({"session": {"variables": [{"name": "a", "type": "enum"}]}})"),
            "x.json:1: session.variables[0]: missing 'values'");
  EXPECT_EQ(
      error_of(
          R"({"session": {"variables": [{"name": "a", "type": "int", "dist": "normal", "mean": 5}]}})"),
      "x.json:1: session.variables[0]: missing 'stddev'");
  EXPECT_EQ(error_of(R"({"orgs": [{"deployments": ["d"]}]})"), "x.json:1: orgs[0]: missing 'slug'");
  EXPECT_EQ(error_of(R"({"arrival": {"spikes": [{"duration": "1m"}]}})"),
            "x.json:1: arrival.spikes[0]: missing 'at'");
  EXPECT_EQ(error_of(R"({"session": {"rules": [{"cid": 1, "name": "r"}]}})"),
            "x.json:1: session.rules[0]: missing 'scenes'");
  EXPECT_EQ(error_of(R"({"orgs": {"pattern": "o{n}"}})"), "x.json:1: orgs: missing 'count'");
}

TEST(profile_errors, bad_units) {
  EXPECT_EQ(error_of(R"({"duration": "10x"})"),
            "x.json:1: duration: unknown unit 'x' in '10x'; use ms, s, m or h");
  EXPECT_EQ(error_of(R"({"duration": "-10s"})"), "x.json:1: duration: duration '-10s' is negative");
  EXPECT_EQ(error_of(R"({"duration": -10})"), "x.json:1: duration: must not be negative, got -10");
  EXPECT_EQ(error_of(R"({"start_time": "2026-01-01"})"),
            "x.json:1: start_time: expected an ISO 8601 UTC time such as "
            "\"2026-01-01T00:00:00Z\" or epoch milliseconds, got \"2026-01-01\"");
  EXPECT_EQ(error_of(R"({"start_time": -1})"),
            "x.json:1: start_time: must be from 0 to 9223372036854775807, got -1");
  EXPECT_EQ(error_of(R"({"arrival": {"rate": "10/d"}})"),
            "x.json:1: arrival.rate: unknown rate unit 'd' in '10/d'; use /s, /m or /h");
  EXPECT_EQ(error_of(R"({"arrival": {"rate": -1}})"),
            "x.json:1: arrival.rate: must be at least 0, got -1");
}

// Found in the fuzzing work (docs/fuzzing.md; tests/fuzz/corpus/profile/regression-*):
// a key holding an escaped line break broke the one-line message across lines.
TEST(profile_errors, messages_stay_on_one_line_whatever_the_keys) {
  EXPECT_EQ(error_of(R"({"a\nb": 1})"),
            "x.json:1: unknown key 'a\\nb'; valid keys: name, description, seed, start_time, "
            "duration, delivery, orgs, viewers, arrival, session, edge_cases");
  EXPECT_EQ(error_of(R"({"orgs": [{"slug": "o", "deployments": [{"slug": "d", "x\u0001": 1}]}]})"),
            "x.json:1: orgs[0].deployments[0]: unknown key 'x\\u0001'; valid keys: slug, types, "
            "weight");
  EXPECT_EQ(error_of("{\"\\t\": 1, \"\\t\": 2}"),
            "x.json:1: \\t: duplicate key '\\t' (first at line 1)");
}

// Found in the fuzzing work: doubles at 2^63 (INT64_MAX rounds up to it) were converted to
// int64, which is undefined behaviour; now they are out of range, and messages print them.
TEST(profile_errors, integers_at_two_to_the_63_are_out_of_range) {
  EXPECT_EQ(error_of(R"({"duration": 9223372036854775807.0})"),
            "x.json:1: duration: must be from 0 to 9223372036854775807, got 9.223372036854776e+18");
  EXPECT_EQ(error_of(R"({"seed": 1, "viewers": {"count": -9.3e18}})"),
            "x.json:1: viewers.count: must be from 1 to 1000000000, got -9.3e+18");
  const std::string message = error_of(
      R"({"session": {"length": {"dist": "uniform", "min": "9223372036854775807ms", "max": "1ms"}}})");
  EXPECT_NE(message.find("2562047788015h12m55s807ms"), std::string::npos) << message;
  EXPECT_EQ(error_of(R"({"start_time": 253402300800000})"),
            "x.json:1: start_time: start time '253402300800000' is after 9999-12-31T23:59:59.999Z");
}

TEST(profile_errors, out_of_range) {
  const auto one = [](std::string_view text) { return error_of(text); };
  EXPECT_EQ(one(R"({"duration": "0s"})"), "x.json:1: duration: must be more than 0, got \"0s\"");
  EXPECT_EQ(one(R"({"delivery": {"max_delay": 0}})"),
            "x.json:1: delivery.max_delay: must be more than 0, got 0");
  EXPECT_EQ(one(R"({"delivery": {"batch_rows": 0}})"),
            "x.json:1: delivery.batch_rows: must be from 1 to 100000, got 0");
  EXPECT_EQ(one(R"({"delivery": {"batch_rows": 100001}})"),
            "x.json:1: delivery.batch_rows: must be from 1 to 100000, got 100001");
  EXPECT_EQ(one(R"({"delivery": {"min_gap": "0"}})"), "");
  EXPECT_EQ(one(R"({"delivery": {"timeout": "0ms"}})"),
            "x.json:1: delivery.timeout: must be more than 0, got \"0ms\"");
  EXPECT_EQ(one(R"({"delivery": {"in_flight": 1025}})"),
            "x.json:1: delivery.in_flight: must be from 1 to 1024, got 1025");
  EXPECT_EQ(one(R"({"viewers": {"count": 0}})"),
            "x.json:1: viewers.count: must be from 1 to 1000000000, got 0");
  EXPECT_EQ(one(R"({"viewers": {"count": 1e9}})"), "");
  EXPECT_EQ(one(R"({"seed": -1})"),
            "x.json:1: seed: expected an integer from 0 to 18446744073709551615, got -1");
  EXPECT_EQ(one(R"({"seed": "18446744073709551616"})"),
            "x.json:1: seed: expected an integer from 0 to 18446744073709551615, got "
            "\"18446744073709551616\"");
  EXPECT_EQ(one(R"({"seed": 1.5})"),
            "x.json:1: seed: expected an integer from 0 to 18446744073709551615, got 1.5");
  EXPECT_EQ(one(R"({"arrival": {"rate": 0}})"),
            "x.json:1: arrival.rate: the rate is 0 and no stage has a rate above 0: no sessions");
  EXPECT_EQ(one(R"({"arrival": {"rate": 0, "stages": [{"duration": "1m", "rate": 0}]}})"),
            "x.json:1: arrival.rate: the rate is 0 and no stage has a rate above 0: no sessions");
  EXPECT_EQ(one(R"({"arrival": {"spikes": [{"at": "1m", "duration": "0s"}]}})"),
            "x.json:1: arrival.spikes[0].duration: must be more than 0, got \"0s\"");
  EXPECT_EQ(one(R"({"arrival": {"spikes": [{"at": "1m", "duration": "1s", "factor": -1}]}})"),
            "x.json:1: arrival.spikes[0].factor: must be at least 0, got -1");
  EXPECT_EQ(one(R"({"arrival": {"stages": [{"duration": "0s", "rate": 1}]}})"),
            "x.json:1: arrival.stages[0].duration: must be more than 0, got \"0s\"");
  EXPECT_EQ(
      one(R"({"session": {"rules": [{"cid": 1, "name": "r", "scenes": ["s"], "probability": 1.5}]}})"),
      "x.json:1: session.rules[0].probability: must be from 0 to 1, got 1.5");
  EXPECT_EQ(one(R"({"session": {"rules": [{"cid": 1.5, "name": "r", "scenes": ["s"]}]}})"),
            "x.json:1: session.rules[0].cid: expected an integer, got 1.5");
  EXPECT_EQ(one(R"({"session": {"rules": [{"cid": 1, "name": "", "scenes": ["s"]}]}})"),
            "x.json:1: session.rules[0].name: must not be empty");
  EXPECT_EQ(one(R"({"session": {"rules": [{"cid": 1, "name": "r", "scenes": []}]}})"),
            "x.json:1: session.rules[0].scenes: must list at least one scene");
  EXPECT_EQ(
      one(R"({"session": {"rules": [{"cid": 1, "name": "r", "scenes": ["s"], "repeat": 0}]}})"),
      "x.json:1: session.rules[0].repeat: must be from 1 to 10000, got 0");
  EXPECT_EQ(one(R"({"session": {"variables": [{"name": "b", "type": "bool", "p_true": -0.1}]}})"),
            "x.json:1: session.variables[0].p_true: must be from 0 to 1, got -0.1");
  EXPECT_EQ(one(R"({"session": {"variables": [{"name": "a", "type": "int", "changes": [5, 1]}]}})"),
            "x.json:1: session.variables[0].changes: min 5 is more than max 1");
  EXPECT_EQ(one(R"({"session": {"variables": [{"name": "a", "type": "int", "changes": 10001}]}})"),
            "x.json:1: session.variables[0].changes: must be from 0 to 10000, got 10001");
  EXPECT_EQ(one(R"({"session": {"variables": [{"name": "a", "type": "int", "changes": [1]}]}})"),
            "x.json:1: session.variables[0].changes: expected a count such as 3 or a range such "
            "as [1, 5], got an array");
  EXPECT_EQ(
      one(R"({"session": {"variables": [{"name": "a", "type": "int", "min": 5, "max": 1}]}})"),
      "x.json:1: session.variables[0].max: min 5 is more than max 1");
  EXPECT_EQ(one(R"({"session": {"variables": [{"name": "a", "type": "int", "min": 0.5}]}})"),
            "x.json:1: session.variables[0].min: expected an integer, got 0.5");
  EXPECT_EQ(one(R"({"session": {"variables": [{"name": "a", "type": "float", "decimals": 18}]}})"),
            "x.json:1: session.variables[0].decimals: must be from -1 to 17, got 18");
  EXPECT_EQ(
      one(R"({"session": {"variables": [{"name": "a", "type": "string", "max_length": 2}]}})"),
      "x.json:1: session.variables[0].max_length: min_length 4 (the default) is more than "
      "max_length 2");
  EXPECT_EQ(
      one(R"({"session": {"variables": [{"name": "a", "type": "string", "max_length": 1000001}]}})"),
      "x.json:1: session.variables[0].max_length: must be from 0 to 1000000, got 1000001");
  EXPECT_EQ(one(R"({"session": {"variables": [{"name": "a", "type": "enum", "values": []}]}})"),
            "x.json:1: session.variables[0].values: must list at least one value");
  EXPECT_EQ(
      one(R"({"session": {"variables": [{"name": "a", "type": "enum", "values": [1, 2], "weights": [1]}]}})"),
      "x.json:1: session.variables[0].weights: has 1 weights for 2 values");
  EXPECT_EQ(
      one(R"({"session": {"variables": [{"name": "a", "type": "enum", "values": [1, 2], "weights": [0, 0]}]}})"),
      "x.json:1: session.variables[0].weights: weights must not all be 0");
  EXPECT_EQ(
      one(R"({"session": {"variables": [{"name": "a", "type": "enum", "values": [1], "weights": [-1]}]}})"),
      "x.json:1: session.variables[0].weights[0]: must be at least 0, got -1");
  EXPECT_EQ(one(R"({"session": {"variables": [{"name": "a", "type": "object", "fields": {}}]}})"),
            "x.json:1: session.variables[0].fields: must have at least one field");
  EXPECT_EQ(
      one(R"({"session": {"variables": [{"name": "a", "type": "float", "dist": "normal", "mean": 1, "stddev": -1}]}})"),
      "x.json:1: session.variables[0].stddev: must be at least 0, got -1");
  EXPECT_EQ(
      one(R"({"session": {"variables": [{"name": "a", "type": "int", "dist": "constant", "value": 1.5}]}})"),
      "x.json:1: session.variables[0].value: expected an integer, got 1.5");
  EXPECT_EQ(one(R"({"session": {"length": {"dist": "exponential", "mean": 0}}})"),
            "x.json:1: session.length.mean: must be more than 0, got 0");
  EXPECT_EQ(one(R"({"session": {"length": {"min": "10m", "max": "1m"}}})"),
            "x.json:1: session.length.max: min 10m is more than max 1m");
  EXPECT_EQ(one(R"({"session": {"browsers": [{"name": "A", "weight": 0}]}})"),
            "x.json:1: session.browsers: weights must not all be 0");
  EXPECT_EQ(one(R"({"description": "two\nlines"})"), "x.json:1: description: must be one line");
}

// "Cannot meet": more sessions a second than one gmsim generates (1,000,000/s), spikes
// multiplied in where they overlap. Overloading GMetri's pacing is allowed (backlog).
TEST(profile_errors, rates_it_cannot_meet) {
  EXPECT_EQ(error_of(R"({"arrival": {"rate": 1e12}})"),
            "x.json:1: arrival: the rate reaches 1000000000000/s at 0s (rate, stages and spike "
            "factors together); one gmsim generates at most 1000000 sessions/s");
  EXPECT_EQ(error_of(R"({"arrival": {"rate": "1e400/s"}})"),
            "x.json:1: arrival.rate: rate '1e400/s' is too large");
  EXPECT_EQ(error_of(R"({"arrival": {"rate": "-5/s"}})"),
            "x.json:1: arrival.rate: rate '-5/s' is negative");
  // A ramp cannot end below 0: its rates are refused first.
  EXPECT_EQ(error_of(R"({"arrival": {"stages": [{"duration": "1m", "rate": -1}]}})"),
            "x.json:1: arrival.stages[0].rate: must be at least 0, got -1");
  EXPECT_NE(error_of(R"({"arrival": {"stages": [{"duration": "1m", "rate": "2000000/s"}]}})")
                .find("reaches 2000000/s at 1m"),
            std::string::npos);
  // Two overlapping spikes multiply; apart, each is fine.
  const std::string two_spikes = R"({"arrival": {"rate": "100/s", "spikes": [
      {"at": "1m", "duration": "1m", "factor": 200}, {"at": "%", "duration": "1m", "factor": 100}]}})";
  auto at = [&](const std::string& start) {
    std::string text = two_spikes;
    text.replace(text.find('%'), 1, start);
    return error_of(text);
  };
  EXPECT_EQ(at("3m"), "");
  EXPECT_NE(at("90s").find("reaches 2000000/s at 1m30s"), std::string::npos) << at("90s");
  EXPECT_EQ(error_of(R"({"arrival": {"rate": "1000000/s"}})"), "");
  EXPECT_EQ(error_of(R"({"arrival": {"rate": "5/s", "spikes": [{"at": "30s", "duration": "90s",
      "factor": 600}]}})"),
            "");
  for (const char* name : {"backlog", "stress", "spike", "ramp-to-break"}) {
    EXPECT_NO_THROW(load_profile(name)) << name;
  }
}

TEST(profile_errors, orgs_and_deployments) {
  EXPECT_EQ(error_of(R"({"orgs": []})"), "x.json:1: orgs: must name at least one org");
  EXPECT_EQ(error_of("{\"orgs\": [\n  \"a\",\n  \"a\"\n]}"),
            "x.json:3: orgs[1]: duplicate org slug 'a' (also at line 2)");
  EXPECT_EQ(error_of(R"({"orgs": [{"slug": "", "deployments": ["d"]}]})"),
            "x.json:1: orgs[0].slug: must not be empty");
  EXPECT_EQ(error_of(R"({"orgs": [{"slug": "a", "deployments": []}]})"),
            "x.json:1: orgs[0].deployments: must name at least one deployment");
  EXPECT_EQ(error_of(R"({"orgs": [{"slug": "a", "deployments": ["d", {"slug": "d"}]}]})"),
            "x.json:1: orgs[0].deployments[1]: duplicate deployment slug 'd' (also at line 1)");
  EXPECT_EQ(error_of(R"({"orgs": [{"slug": "a", "deployments": [{"slug": "d", "types": []}]}]})"),
            "x.json:1: orgs[0].deployments[0].types: must name at least one of variables, rules or "
            "session");
  EXPECT_EQ(
      error_of(
          R"({"orgs": [{"slug": "a", "deployments": [{"slug": "d", "types": ["rules", "rules"]}]}]})"),
      "x.json:1: orgs[0].deployments[0].types[1]: duplicate type \"rules\"");
  EXPECT_EQ(error_of(R"({"orgs": {"count": 2, "pattern": "org"}})"),
            "x.json:1: orgs.pattern: must contain {n} when count is more than 1");
  EXPECT_EQ(error_of(R"({"orgs": {"count": 100001}})"),
            "x.json:1: orgs.count: must be from 1 to 100000, got 100001");
  EXPECT_EQ(error_of(R"({"orgs": [{"slug": "a", "deployments": {"count": 0}}]})"),
            "x.json:1: orgs[0].deployments.count: must be from 1 to 100000, got 0");
  EXPECT_EQ(error_of(R"({"orgs": [{"slug": "a", "deployments": [{"slug": "d", "weight": 0}]}]})"),
            "x.json:1: orgs: deployment weights are all 0: no deployment gets sessions");
  EXPECT_EQ(error_of(R"({"orgs": {"count": 1, "pattern": "solo"}})"), "");
}

TEST(profile_errors, duplicates_in_session) {
  EXPECT_EQ(error_of("{\"session\": {\"variables\": [\n  {\"name\": \"a\", \"type\": \"int\"},\n"
                     "  {\"name\": \"a\", \"type\": \"bool\"}]}}"),
            "x.json:3: session.variables[1]: duplicate variable 'a' (also at line 2)");
  EXPECT_EQ(error_of(R"({"session": {"platforms": ["IOS", "IOS"]}})"),
            "x.json:1: session.platforms[1]: duplicate platform 'IOS' (also at line 1)");
  EXPECT_EQ(error_of("{\"session\": {\n  \"length\": \"5m\",\n  \"length\": \"6m\"}}"),
            "x.json:3: session.length: duplicate key 'length' (first at line 2)");
}

TEST(profile_errors, syntax_errors_name_the_file) {
  EXPECT_EQ(error_of("// a profile\n{\n  \"seed\": 1,\n}\n", "profiles/x.json"),
            "profiles/x.json:4:1: syntax error: trailing comma before '}'");
  EXPECT_EQ(error_of("{\n  \"seed\": 1 /* not closed\n}", "p.json"),
            "p.json:2:13: syntax error: unterminated /* comment");
}

TEST(profile_errors, lines_point_at_the_field) {
  const std::string text = R"({
  // Comments do not shift the count.
  /* Nor do
     block comments. */
  "session": {
    "variables": [
      {"name": "a", "type": "int"},
      {
        "name": "b",
        "type": "enum",
        "values": [1, 2],
        "weights": [1,
                    -2]
      }
    ]
  }
})";
  EXPECT_EQ(error_of(text),
            "x.json:13: session.variables[1].weights[1]: must be at least 0, got -2");
}

// ---- loading by name or path ----

class profile_load : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("gmsim_profile_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, std::string_view text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  static std::string load_error(std::string_view name_or_path) {
    try {
      load_profile(name_or_path);
    } catch (const profile_error& e) {
      return e.what();
    }
    return "";
  }

  std::filesystem::path dir_;
};

TEST_F(profile_load, builtin_by_name) {
  const profile p = load_profile("quickstart");
  EXPECT_EQ(p.name, "quickstart");
  EXPECT_EQ(p.source, "builtin:quickstart");
}

TEST_F(profile_load, file_by_path) {
  const std::string path = write("burst.json", "// burst\n{\"seed\": 7, \"duration\": \"2m\"}");
  const profile p = load_profile(path);
  EXPECT_EQ(p.name, "burst");
  EXPECT_EQ(p.source, path);
  EXPECT_EQ(p.seed, 7u);
  EXPECT_EQ(p.duration, 120'000);

  const std::string named = write("other.json", R"({"name": "nightly"})");
  EXPECT_EQ(load_profile(named).name, "nightly");
}

TEST_F(profile_load, errors_name_the_path) {
  const std::string path = write("bad.json", "{\n  \"duration\": \"5 minutes\"\n}");
  EXPECT_EQ(load_error(path), path +
                                  ":2: duration: expected a duration such as \"60s\", got \"5 "
                                  "minutes\"");
}

TEST_F(profile_load, missing_file) {
  const std::string path = (dir_ / "absent.json").string();
  EXPECT_EQ(load_error(path), path + ": cannot read: No such file or directory");
  EXPECT_EQ(load_error(dir_.string() + "/"), dir_.string() + "/: cannot read: Is a directory");
}

TEST_F(profile_load, unknown_name) {
  std::string names;
  for (const auto& builtin : embedded_profiles()) {
    names += (names.empty() ? "" : ", ") + std::string(builtin.name);
  }
  EXPECT_EQ(load_error("nosuch"), "unknown profile 'nosuch'; built-ins: " + names);
  EXPECT_EQ(load_error("quikstart"),
            "unknown profile 'quikstart'; built-ins: " + names + "; did you mean 'quickstart'?");
}

}  // namespace
}  // namespace gmsim
