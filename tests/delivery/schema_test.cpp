#include "delivery/schema.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace gmsim {
namespace {

using nlohmann::json;
using fault_list = std::vector<std::pair<std::string, std::string>>;

fault_list faults_of(std::string_view body, const schema_limits& limits = {}) {
  fault_list out;
  for (auto& f : validate_body(body, limits)) out.emplace_back(f.path, f.reason);
  return out;
}

// The documentation's examples, with their syntax fixed (quoted keys, no trailing commas,
// the missing quote after ANDROID, integers for `created_at: xyz`).
constexpr std::string_view docs_variables = R"({
  "type": "variables",
  "data": {
    "orgSlug": "gmetri",
    "depSlug": "gmetridemo",
    "rows": [{
      "identifier": "user1@example.com",
      "variables": {"score": 100, "quizCompleted": true}
    }, {
      "identifier": "user2@example.com",
      "variables": {"score": 75, "quizCompleted": false}
    }]
  }
})";

constexpr std::string_view docs_rules = R"({
  "type": "rules",
  "data": {
    "orgSlug": "gmetri",
    "depSlug": "gmetridemo",
    "rows": [{
      "identifier": "user1@example.com",
      "rules": [{"cid": 1, "cname": "Rule A", "scene_name": "scene 1", "timestamp": 123456}]
    }, {
      "identifier": "user2@example.com",
      "rules": [{"cid": 1, "cname": "Rule A", "scene_name": "scene 2", "timestamp": 123457},
                {"cid": 2, "cname": "Rule C", "scene_name": "scene 2", "timestamp": 123458}]
    }, {
      "identifier": "user3@example.com",
      "rules": [{"cid": 10, "cname": "Rule G", "scene_name": "scene 4", "timestamp": 234561}]
    }]
  }
})";

constexpr std::string_view docs_session = R"({
  "type": "session",
  "data": {
    "orgSlug": "gmetri",
    "depSlug": "gmetridemo",
    "rows": [{
      "identifier": "user1@example.com",
      "session": {"uuid": "12134-dffgs-2345-vfsd", "browser": "CHROME", "platform": "ANDROID",
                  "device_id": "123", "created_at": 123455, "modified_at": 123455}
    }, {
      "identifier": "user2@example.com",
      "session": {"uuid": "12134-dffgs-2345-vfsd", "browser": "CHROME", "platform": "ANDROID",
                  "device_id": "123", "created_at": 123455, "modified_at": 123455}
    }, {
      "identifier": "user3@example.com",
      "session": {"uuid": "12134-3214-2345-vfsd", "browser": "CHROME 1", "platform": "IOS",
                  "device_id": "456", "created_at": 123456, "modified_at": 123456}
    }]
  }
})";

// A body of `type` whose rows are `rows` (JSON text), for the per-row fault tests.
std::string body_with_rows(std::string_view type, std::string_view rows) {
  return R"({"type":")" + std::string(type) + R"(","data":{"orgSlug":"o","depSlug":"d","rows":)" +
         std::string(rows) + "}}";
}

std::string variables_rows(std::size_t count, std::string_view row) {
  std::string rows = "[";
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0) rows += ',';
    rows += row;
  }
  return body_with_rows("variables", rows + "]");
}

constexpr std::string_view good_variables_row = R"({"identifier":"a","variables":{}})";

std::string rule_body(std::string_view rule) {
  return body_with_rows("rules", R"([{"identifier":"a","rules":[)" + std::string(rule) + "]}]");
}

std::string session_body(std::string_view session) {
  return body_with_rows("session",
                        R"([{"identifier":"a","session":)" + std::string(session) + "}]");
}

// --- valid bodies ---------------------------------------------------------------------

TEST(schema, accepts_the_documented_examples) {
  EXPECT_EQ(faults_of(docs_variables), fault_list{});
  EXPECT_EQ(faults_of(docs_rules), fault_list{});
  EXPECT_EQ(faults_of(docs_session), fault_list{});
}

TEST(schema, accepts_any_variable_values_and_unicode) {
  std::string nested = "1";
  for (int i = 0; i < 100; ++i) nested = "[" + nested + "]";
  const auto body = body_with_rows(
      "variables",
      R"([{"identifier":"\u00e9l\u00e8ve \ud83d\ude00 \u2028","variables":{)"
      R"("n":null,"b":true,"f":-1.5e300,"big":18446744073709551615,"neg":-9223372036854775808,)"
      R"("s":"","o":{"x":{"y":[]}},"deep":)" +
          nested + "}}]");
  EXPECT_EQ(faults_of(body), fault_list{});
}

TEST(schema, accepts_sessions_with_extra_fields_and_without_optional_ones) {
  EXPECT_EQ(faults_of(session_body(R"({"uuid":"u"})")), fault_list{});
  EXPECT_EQ(faults_of(session_body(R"({"uuid":"u","lat":1.5,"tags":["x"],"browser":"FF",)"
                                   R"("created_at":0,"modified_at":1767225600000})")),
            fault_list{});
}

TEST(schema, accepts_negative_cids_and_empty_names) {
  EXPECT_EQ(faults_of(rule_body(R"({"cid":-3,"cname":"","scene_name":"","timestamp":0})")),
            fault_list{});
}

TEST(schema, accepts_exactly_max_rows) {
  EXPECT_EQ(faults_of(variables_rows(500, good_variables_row)), fault_list{});
  EXPECT_EQ(faults_of(variables_rows(3, good_variables_row), {.max_rows = 3}), fault_list{});
}

// --- not JSON -------------------------------------------------------------------------

TEST(schema, reports_syntax_errors_with_byte_offsets) {
  // The offset is 0-based: the '}' at 12, the end of input at 0, the 'x' at 11.
  EXPECT_EQ(faults_of(R"({"type": tru})"),
            (fault_list{{"",
                         "not JSON: syntax error while parsing value - invalid literal; "
                         "last read: '\"type\": tru}' (at byte 12)"}}));
  EXPECT_EQ(faults_of(""),
            (fault_list{{"",
                         "not JSON: syntax error while parsing value - unexpected end of "
                         "input; expected '[', '{', or a literal (at byte 0)"}}));
  EXPECT_EQ(faults_of(R"({"type":1} x)"),
            (fault_list{{"",
                         "not JSON: syntax error while parsing value - invalid literal; "
                         "last read: '1} x'; expected end of input (at byte 11)"}}));
}

TEST(schema, reports_number_overflow_as_not_json) {
  EXPECT_EQ(faults_of(R"({"type": 1e400})"),
            (fault_list{{"", "not JSON: number overflow parsing '1e400' (at byte 13)"}}));
}

TEST(schema, shows_invalid_utf8_in_reasons_as_hex) {
  const auto faults = faults_of("{\"type\": \"a\xff\"}");
  ASSERT_EQ(faults.size(), 1u);
  EXPECT_EQ(faults[0].first, "");
  EXPECT_EQ(faults[0].second,
            "not JSON: syntax error while parsing value - invalid string: ill-formed UTF-8 "
            "byte; last read: '\"a\\xff' (at byte 11)");
}

TEST(schema, refuses_nesting_beyond_max_depth) {
  const std::string open(100000, '[');
  EXPECT_EQ(faults_of(open), (fault_list{{"", "nesting deeper than 512 levels"}}));
  std::string nested = "1";
  for (int i = 0; i < 20; ++i) nested = "[" + nested + "]";
  const auto body =
      body_with_rows("variables", R"([{"identifier":"a","variables":{"x":)" + nested + "}}]");
  EXPECT_EQ(faults_of(body), fault_list{});
  EXPECT_EQ(faults_of(body, {.max_depth = 24}),
            (fault_list{{"", "nesting deeper than 24 levels"}}));
}

// --- the body and data ----------------------------------------------------------------

TEST(schema, body_must_be_an_object) {
  EXPECT_EQ(faults_of("[]"), (fault_list{{"", "expected an object, got array"}}));
  EXPECT_EQ(faults_of("\"x\""), (fault_list{{"", "expected an object, got string"}}));
}

TEST(schema, body_needs_type_and_data) {
  EXPECT_EQ(faults_of("{}"), (fault_list{{"", "missing key 'type'"}, {"", "missing key 'data'"}}));
}

TEST(schema, body_has_no_other_keys) {
  auto body = json::parse(docs_variables);
  body["extra"] = 1;
  body["a/b~c"] = 2;
  EXPECT_EQ(faults_of(body.dump()), (fault_list{{"/a~1b~0c", "unexpected key 'a/b~c' in the body"},
                                                {"/extra", "unexpected key 'extra' in the body"}}));
}

TEST(schema, type_must_be_a_known_string) {
  auto body = json::parse(docs_variables);
  body["type"] = 3;
  EXPECT_EQ(faults_of(body.dump()), (fault_list{{"/type", "expected a string, got number"}}));
  body["type"] = "sessions";
  EXPECT_EQ(
      faults_of(body.dump()),
      (fault_list{{"/type", R"(expected "variables", "rules" or "session", got "sessions")"}}));
}

TEST(schema, rows_of_an_unknown_type_are_checked_for_identifier_only) {
  EXPECT_EQ(faults_of(body_with_rows("nope", R"([{"identifier":1,"whatever":2}])")),
            (fault_list{{"/type", R"(expected "variables", "rules" or "session", got "nope")"},
                        {"/data/rows/0/identifier", "expected a string, got number"}}));
}

TEST(schema, long_values_are_cut_in_reasons) {
  auto body = json::parse(docs_variables);
  body["type"] = std::string(39, 'x') + "\u00e9\u00e9";
  EXPECT_EQ(
      faults_of(body.dump())[0].second,
      R"(expected "variables", "rules" or "session", got ")" + std::string(39, 'x') + "...\"");
}

TEST(schema, data_must_be_an_object) {
  EXPECT_EQ(faults_of(R"({"type":"rules","data":[]})"),
            (fault_list{{"/data", "expected an object, got array"}}));
}

TEST(schema, data_needs_its_three_keys) {
  EXPECT_EQ(faults_of(R"({"type":"rules","data":{}})"),
            (fault_list{{"/data", "missing key 'orgSlug'"},
                        {"/data", "missing key 'depSlug'"},
                        {"/data", "missing key 'rows'"}}));
}

TEST(schema, data_has_no_other_keys) {
  auto body = json::parse(docs_rules);
  body["data"]["page"] = 1;
  EXPECT_EQ(faults_of(body.dump()), (fault_list{{"/data/page", "unexpected key 'page' in data"}}));
}

TEST(schema, slugs_are_non_empty_strings) {
  auto body = json::parse(docs_rules);
  body["data"]["orgSlug"] = "";
  body["data"]["depSlug"] = nullptr;
  EXPECT_EQ(faults_of(body.dump()), (fault_list{{"/data/depSlug", "expected a string, got null"},
                                                {"/data/orgSlug", "expected a non-empty string"}}));
}

// --- rows -----------------------------------------------------------------------------

TEST(schema, rows_must_be_an_array) {
  EXPECT_EQ(faults_of(body_with_rows("variables", "{}")),
            (fault_list{{"/data/rows", "expected an array, got object"}}));
}

TEST(schema, rows_must_not_be_empty) {
  EXPECT_EQ(faults_of(body_with_rows("session", "[]")),
            (fault_list{{"/data/rows", "rows has 0 entries; at least 1"}}));
}

TEST(schema, rows_are_at_most_max_rows) {
  EXPECT_EQ(faults_of(variables_rows(501, good_variables_row)),
            (fault_list{{"/data/rows", "rows has 501 entries; at most 500"}}));
  EXPECT_EQ(faults_of(variables_rows(4, good_variables_row), {.max_rows = 3}),
            (fault_list{{"/data/rows", "rows has 4 entries; at most 3"}}));
}

TEST(schema, a_row_is_an_object) {
  EXPECT_EQ(faults_of(body_with_rows("variables", R"([{"identifier":"a","variables":{}}, "b"])")),
            (fault_list{{"/data/rows/1", "expected an object, got string"}}));
}

TEST(schema, a_row_needs_identifier_and_payload) {
  EXPECT_EQ(faults_of(body_with_rows("variables", "[{}]")),
            (fault_list{{"/data/rows/0", "missing key 'identifier'"},
                        {"/data/rows/0", "missing key 'variables'"}}));
  EXPECT_EQ(faults_of(body_with_rows("rules", R"([{"identifier":"a"}])")),
            (fault_list{{"/data/rows/0", "missing key 'rules'"}}));
  EXPECT_EQ(faults_of(body_with_rows("session", R"([{"identifier":"a"}])")),
            (fault_list{{"/data/rows/0", "missing key 'session'"}}));
}

TEST(schema, identifier_is_a_string) {
  EXPECT_EQ(faults_of(body_with_rows("variables", R"([{"identifier":7,"variables":{}}])")),
            (fault_list{{"/data/rows/0/identifier", "expected a string, got number"}}));
}

TEST(schema, a_row_of_another_type_is_a_fault) {
  EXPECT_EQ(
      faults_of(body_with_rows("variables", R"([{"identifier":"a","variables":{},"rules":[]}])")),
      (fault_list{{"/data/rows/0/rules", "unexpected key 'rules' in a variables row"}}));
  EXPECT_EQ(faults_of(body_with_rows("session", R"([{"identifier":"a","variables":{}}])")),
            (fault_list{{"/data/rows/0/variables", "unexpected key 'variables' in a session row"},
                        {"/data/rows/0", "missing key 'session'"}}));
}

TEST(schema, variables_is_an_object) {
  EXPECT_EQ(faults_of(body_with_rows("variables", R"([{"identifier":"a","variables":[1]}])")),
            (fault_list{{"/data/rows/0/variables", "expected an object, got array"}}));
}

// --- rules ----------------------------------------------------------------------------

TEST(schema, rules_is_a_non_empty_array_of_objects) {
  EXPECT_EQ(faults_of(body_with_rows("rules", R"([{"identifier":"a","rules":{}}])")),
            (fault_list{{"/data/rows/0/rules", "expected an array, got object"}}));
  EXPECT_EQ(faults_of(body_with_rows("rules", R"([{"identifier":"a","rules":[]}])")),
            (fault_list{{"/data/rows/0/rules", "rules has 0 entries; at least 1"}}));
  EXPECT_EQ(faults_of(rule_body("true")),
            (fault_list{{"/data/rows/0/rules/0", "expected an object, got boolean"}}));
}

TEST(schema, a_rule_has_exactly_its_four_keys) {
  EXPECT_EQ(faults_of(rule_body(R"({"x":1})")),
            (fault_list{{"/data/rows/0/rules/0/x", "unexpected key 'x' in a rule"},
                        {"/data/rows/0/rules/0", "missing key 'cid'"},
                        {"/data/rows/0/rules/0", "missing key 'cname'"},
                        {"/data/rows/0/rules/0", "missing key 'scene_name'"},
                        {"/data/rows/0/rules/0", "missing key 'timestamp'"}}));
}

TEST(schema, cid_is_an_integer) {
  EXPECT_EQ(faults_of(rule_body(R"({"cid":1.5,"cname":"c","scene_name":"s","timestamp":1})")),
            (fault_list{{"/data/rows/0/rules/0/cid", "expected an integer, got 1.5"}}));
  EXPECT_EQ(faults_of(rule_body(R"({"cid":"1","cname":"c","scene_name":"s","timestamp":1})")),
            (fault_list{{"/data/rows/0/rules/0/cid", "expected an integer, got string"}}));
}

TEST(schema, names_are_strings) {
  EXPECT_EQ(faults_of(rule_body(R"({"cid":1,"cname":2,"scene_name":[],"timestamp":1})")),
            (fault_list{{"/data/rows/0/rules/0/cname", "expected a string, got number"},
                        {"/data/rows/0/rules/0/scene_name", "expected a string, got array"}}));
}

TEST(schema, timestamp_is_a_non_negative_integer) {
  EXPECT_EQ(
      faults_of(rule_body(R"({"cid":1,"cname":"c","scene_name":"s","timestamp":-1})")),
      (fault_list{{"/data/rows/0/rules/0/timestamp", "expected a non-negative integer, got -1"}}));
  EXPECT_EQ(faults_of(rule_body(R"({"cid":1,"cname":"c","scene_name":"s","timestamp":1e3})")),
            (fault_list{{"/data/rows/0/rules/0/timestamp",
                         "expected a non-negative integer, got 1000.0"}}));
  EXPECT_EQ(faults_of(rule_body(R"({"cid":1,"cname":"c","scene_name":"s","timestamp":"now"})")),
            (fault_list{{"/data/rows/0/rules/0/timestamp",
                         "expected a non-negative integer, got string"}}));
}

// --- session --------------------------------------------------------------------------

TEST(schema, session_is_an_object_with_a_uuid) {
  EXPECT_EQ(faults_of(session_body("null")),
            (fault_list{{"/data/rows/0/session", "expected an object, got null"}}));
  EXPECT_EQ(faults_of(session_body(R"({"browser":"FF"})")),
            (fault_list{{"/data/rows/0/session", "missing key 'uuid'"}}));
  EXPECT_EQ(faults_of(session_body(R"({"uuid":12})")),
            (fault_list{{"/data/rows/0/session/uuid", "expected a string, got number"}}));
}

TEST(schema, session_strings_when_present_are_strings) {
  EXPECT_EQ(faults_of(session_body(R"({"uuid":"u","browser":null,"platform":1,"device_id":{}})")),
            (fault_list{{"/data/rows/0/session/browser", "expected a string, got null"},
                        {"/data/rows/0/session/device_id", "expected a string, got object"},
                        {"/data/rows/0/session/platform", "expected a string, got number"}}));
}

TEST(schema, session_times_when_present_are_non_negative_integers) {
  // The documentation's `created_at: xyz` is a quirk, not a licence for strings.
  EXPECT_EQ(faults_of(session_body(R"({"uuid":"u","created_at":"xyz","modified_at":-5})")),
            (fault_list{
                {"/data/rows/0/session/created_at", "expected a non-negative integer, got string"},
                {"/data/rows/0/session/modified_at", "expected a non-negative integer, got -5"}}));
}

// --- limits and robustness ------------------------------------------------------------

TEST(schema, max_faults_is_respected) {
  const auto body = variables_rows(600, R"({"identifier":1,"variables":[]})");
  const auto faults = faults_of(body);
  ASSERT_EQ(faults.size(), 20u);
  EXPECT_EQ(faults[0], (std::pair<std::string, std::string>{"/data/rows",
                                                            "rows has 600 entries; at most 500"}));
  EXPECT_EQ(faults[1].first, "/data/rows/0/identifier");
  EXPECT_EQ(faults[19].first, "/data/rows/9/identifier");
  EXPECT_EQ(faults_of(body, {.max_faults = 3}).size(), 3u);
  EXPECT_EQ(faults_of(body, {.max_faults = 0}).size(), 1u);  // never "valid" by accident
}

// Reasons end up in logs and in JSON replies: they must be valid UTF-8.
void expect_safe_reasons(const std::vector<schema_fault>& faults) {
  for (const auto& f : faults) {
    EXPECT_NO_THROW((void)json(f.reason).dump()) << f.reason;
    EXPECT_NO_THROW((void)json(f.path).dump()) << f.path;
  }
}

TEST(schema, random_bytes_never_throw) {
  std::mt19937_64 rng(20240601);
  for (int i = 0; i < 5000; ++i) {
    std::string bytes(rng() % 200, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng());
    std::vector<schema_fault> faults;
    ASSERT_NO_THROW(faults = validate_body(bytes)) << i;
    EXPECT_FALSE(faults.empty());
    expect_safe_reasons(faults);
  }
}

TEST(schema, every_truncation_is_not_json) {
  for (const auto body : {docs_variables, docs_rules, docs_session}) {
    for (std::size_t n = 0; n < body.size(); ++n) {
      const auto faults = validate_body(body.substr(0, n));
      ASSERT_EQ(faults.size(), 1u) << n;
      EXPECT_EQ(faults[0].path, "");
      EXPECT_TRUE(faults[0].reason.starts_with("not JSON: ")) << faults[0].reason;
    }
  }
}

TEST(schema, mutated_bodies_never_throw) {
  std::mt19937_64 rng(7);
  const std::string alphabet = "{}[]\":,0-1.e\\u tnfx\x80\xff";
  for (int i = 0; i < 5000; ++i) {
    std::string body(i % 3 == 0 ? docs_variables : i % 3 == 1 ? docs_rules : docs_session);
    for (int edits = 1 + rng() % 4; edits > 0; --edits) {
      body[rng() % body.size()] = alphabet[rng() % alphabet.size()];
    }
    std::vector<schema_fault> faults;
    ASSERT_NO_THROW(faults = validate_body(body, {.max_faults = 5})) << body;
    EXPECT_LE(faults.size(), 5u);
    expect_safe_reasons(faults);
  }
}

}  // namespace
}  // namespace gmsim
