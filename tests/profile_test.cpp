#include "gmsim/profile.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "profile_json.hpp"

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

TEST(profile_json, nearest_name) {
  const std::vector<std::string_view> names = {"changes", "when", "name", "type", "max_delay"};
  EXPECT_EQ(detail::nearest_name("chnages", names), "changes");  // a swap counts once
  EXPECT_EQ(detail::nearest_name("chanegs", names), "changes");
  EXPECT_EQ(detail::nearest_name("nmae", names), "name");
  EXPECT_EQ(detail::nearest_name("maxDelay", names), "max_delay");
  EXPECT_EQ(detail::nearest_name("Type", names), "type");
  EXPECT_EQ(detail::nearest_name("colour", names), "");
  EXPECT_EQ(detail::nearest_name("x", names), "");
  EXPECT_EQ(detail::nearest_name("", names), "");
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
      {"name": "c", "type": "int", "min": 1e3, "max": 2000.0}]}
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

}  // namespace
}  // namespace gmsim
