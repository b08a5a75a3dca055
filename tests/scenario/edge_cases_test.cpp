// The edge-case catalogue, injected into dry runs: each case is present, each valid case
// keeps every body valid, and the batch cases make exactly the pages they name.
#include "scenario/edge_cases.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <algorithm>
#include <map>
#include <set>

#include "delivery/encoder.hpp"
#include "delivery/schema.hpp"
#include "test_support.hpp"

namespace gmsim {
namespace {

struct edge_run {
  explicit edge_run(std::vector<edge_case_selection> cases) {
    auto p = testing::small_profile(1, 600'000, 0.2);
    p.delivery.max_delay = 10'000;
    p.edge_cases = std::move(cases);
    model = std::make_unique<scenario>(p);
    body_encoder = std::make_unique<encoder>(*model);
    sender = std::make_unique<testing::recording_sender>(time);
    std::vector<std::uint32_t> all;
    for (std::uint32_t d = 0; d < model->deployments().size(); ++d) all.push_back(d);
    work = std::make_unique<engine>(engine_setup{model.get(), body_encoder.get(), all, nullptr},
                                    time, *sender);
    sender->attach(*work);
    testing::run_to_end(*work, time);
  }
  // Bodies of the edge deployment, by type.
  std::vector<nlohmann::json> bodies(webhook_type type) const {
    std::vector<nlohmann::json> out;
    for (const auto& r : sender->sent) {
      const auto& s = model->streams()[r.stream];
      if (s.type == type && model->deployments()[s.deployment].dep_slug == "gmsim-edge-cases") {
        out.push_back(nlohmann::json::parse(r.body));
      }
    }
    return out;
  }
  std::unique_ptr<scenario> model;
  std::unique_ptr<encoder> body_encoder;
  simulated_clock time;
  std::unique_ptr<testing::recording_sender> sender;
  std::unique_ptr<engine> work;
};

std::set<std::string> tags_in(const std::vector<nlohmann::json>& bodies) {
  std::set<std::string> tags;
  for (const auto& b : bodies) {
    for (const auto& row : b["data"]["rows"]) {
      if (row["variables"].contains("gmsimEdgeCase")) tags.insert(row["variables"]["gmsimEdgeCase"]);
    }
  }
  return tags;
}

// The value once read a byte past its string literal (ASan: global-buffer-overflow), so
// its bytes depended on the build.
TEST(edge_cases, control_chars_value_is_exactly_the_documented_bytes) {
  edge_run run({{"text-control-chars", 1}});
  const std::string expected = std::string("tab\tnl\ncr\rnul") + '\0' + "bell\x07";
  int seen = 0;
  for (const auto& b : run.bodies(webhook_type::variables)) {
    for (const auto& row : b["data"]["rows"]) {
      if (!row["variables"].contains("ctl\n")) continue;
      ++seen;
      EXPECT_EQ(row["variables"]["ctl\n"].get<std::string>(), expected);
    }
  }
  EXPECT_EQ(seen, 1);
}

TEST(edge_cases, all_valid_cases_are_present_and_every_body_stays_valid) {
  edge_run run({{"all", 1}});
  for (const auto& r : run.sender->sent) {
    auto faults = validate_body(r.body);
    ASSERT_TRUE(faults.empty()) << faults[0].path << ": " << faults[0].reason;
  }
  auto tags = tags_in(run.bodies(webhook_type::variables));
  std::set<std::string> names_of_rules;
  for (const auto& b : run.bodies(webhook_type::rules)) {
    for (const auto& row : b["data"]["rows"]) {
      for (const auto& rule : row["rules"]) names_of_rules.insert(rule["cname"]);
    }
  }
  for (const auto& c : edge_case_catalogue()) {
    if (!c.valid || c.group == "time" || c.name == "repeat-rule-twice") continue;
    EXPECT_TRUE(tags.count(std::string(c.name))) << c.name;
  }
  for (auto name : {"Epoch Zero", "A Year Ahead", "Later First", "Twice"}) EXPECT_TRUE(names_of_rules.count(name)) << name;
  // The auth probes' rows are counted apart from the traffic's (a dry run "accepts" them).
  const auto& st = run.work->stats();
  EXPECT_GT(st.auth_probe_rows, 0);
  EXPECT_EQ(st.rows_generated, st.rows_delivered + st.auth_probe_rows);
}

TEST(edge_cases, batch_cases_make_exactly_the_pages_they_name) {
  edge_run run({{"batch-exact-500", 1}, {"batch-501", 1}, {"batch-one-row", 1}});
  std::vector<std::size_t> sizes;
  for (const auto& b : run.bodies(webhook_type::variables)) sizes.push_back(b["data"]["rows"].size());
  EXPECT_EQ(sizes, (std::vector<std::size_t>{500, 500, 1, 1}));
}

TEST(edge_cases, numbers_are_written_digit_for_digit) {
  edge_run run({{"number-big-int", 1}, {"number-long-decimal", 1}, {"number-zero", 1}});
  std::string all;
  for (const auto& r : run.sender->sent) all += r.body;
  for (auto text : {"\"bigInt\":9007199254740993", "\"maxUint64\":18446744073709551615",
                    "\"minInt64\":-9223372036854775808", "\"negativeZero\":-0.0",
                    "\"tenth\":0.1000000000000000055511151231257827"}) {
    EXPECT_NE(all.find(text), std::string::npos) << text;
  }
}

TEST(edge_cases, text_cases_survive_encoding) {
  edge_run run({{"text-combining", 1}, {"text-line-separators", 1}, {"text-control-chars", 1}});
  std::set<std::string> identifiers;
  bool separators = false, control = false;
  for (const auto& b : run.bodies(webhook_type::variables)) {
    for (const auto& row : b["data"]["rows"]) {
      identifiers.insert(row["identifier"]);
      for (const auto& [k, v] : row["variables"].items()) {
        if (v.is_string() && v.get<std::string>() == "a\u2028b\u2029c") separators = true;
        if (v.is_string() && v.get<std::string>().find(std::string(1, '\0')) != std::string::npos) control = true;
      }
    }
  }
  EXPECT_TRUE(identifiers.count("text-combining-0-jos\u00e9@edge.example"));
  EXPECT_TRUE(identifiers.count("text-combining-0-jose\u0301@edge.example"));
  EXPECT_TRUE(separators);
  EXPECT_TRUE(control);
}

TEST(edge_cases, time_cases_write_the_odd_timestamps) {
  edge_run run({{"time-zero", 1}, {"time-rules-out-of-order", 1}, {"time-created-after-modified", 1}});
  std::vector<std::int64_t> stamps;
  for (const auto& b : run.bodies(webhook_type::rules)) {
    for (const auto& row : b["data"]["rows"]) {
      std::vector<std::int64_t> in_row;
      for (const auto& rule : row["rules"]) in_row.push_back(rule["timestamp"]);
      if (in_row.size() == 2) EXPECT_GT(in_row[0], in_row[1]);  // out of order within the row
      stamps.insert(stamps.end(), in_row.begin(), in_row.end());
    }
  }
  EXPECT_NE(std::find(stamps.begin(), stamps.end(), 0), stamps.end());
  auto sessions = run.bodies(webhook_type::session);
  ASSERT_EQ(sessions.size(), 1u);
  const auto& s = sessions[0]["data"]["rows"][0]["session"];
  EXPECT_GT(s["created_at"].get<std::int64_t>(), s["modified_at"].get<std::int64_t>());
}

TEST(edge_cases, the_documentation_quirk_is_off_by_default_and_invalid) {
  for (const auto& c : expand_edge_cases({{"all", 1}})) EXPECT_NE(c.name, "quirk-created-at-string");
  edge_run run({{"quirk-created-at-string", 1}});
  auto sessions = run.bodies(webhook_type::session);
  ASSERT_EQ(sessions.size(), 1u);
  auto faults = validate_body(sessions[0].dump());
  ASSERT_FALSE(faults.empty());
  EXPECT_EQ(faults[0].path, "/data/rows/0/session/created_at");
}

// The documentation's own examples, which its types allow: a session uuid that is not a
// UUID, a numeric-string device_id, a browser with a version; and extra session keys.
TEST(edge_cases, the_documentations_session_and_extra_keys_are_written_and_valid) {
  edge_run run({{"session-docs-example", 2}, {"session-extra-fields", 1}});
  std::vector<nlohmann::json> sessions;
  for (const auto& b : run.bodies(webhook_type::session)) {
    EXPECT_TRUE(validate_body(b.dump()).empty()) << b.dump();
    for (const auto& row : b["data"]["rows"]) sessions.push_back(row["session"]);
  }
  ASSERT_EQ(sessions.size(), 3u);
  std::set<std::string> uuids;
  int extra = 0;
  for (const auto& s : sessions) {
    uuids.insert(s["uuid"].get<std::string>());
    if (s.contains("device_model")) {
      ++extra;
      EXPECT_EQ(s["screen"]["width"], 1832);
      EXPECT_TRUE(s["referrer"].is_null());
      EXPECT_EQ(s.size(), 10u);  // the six and four more
    } else {
      EXPECT_EQ(s["device_id"], "123");
      EXPECT_EQ(s["browser"], "CHROME 1");
      EXPECT_EQ(s.size(), 6u);
    }
  }
  EXPECT_EQ(extra, 1);
  EXPECT_TRUE(uuids.count("12134-dffgs-2345-vfsd")) << "the example's uuid, exactly";
  EXPECT_TRUE(uuids.count("12134-dffgs-2345-vfsd-1")) << "a second instance keeps uuids unique";
}

// value-long-string's page stays under Express's default 100 kB (102,400 bytes);
// value-over-express-limit's is just over it, so that a default receiver answers 413.
TEST(edge_cases, one_long_value_stays_under_expresss_limit_and_one_goes_just_over) {
  edge_run run({{"value-long-string", 1}, {"value-over-express-limit", 1}});
  std::map<std::string, std::size_t> bytes;
  for (const auto& r : run.sender->sent) {
    const auto body = nlohmann::json::parse(r.body);
    for (const auto& row : body["data"]["rows"]) {
      if (!row.contains("variables") || !row["variables"].contains("gmsimEdgeCase")) continue;
      bytes[row["variables"]["gmsimEdgeCase"].get<std::string>()] = r.body.size();
    }
  }
  ASSERT_EQ(bytes.size(), 2u);
  EXPECT_LT(bytes["value-long-string"], 102'400u);
  EXPECT_GT(bytes["value-over-express-limit"], 102'400u);
  EXPECT_LT(bytes["value-over-express-limit"], 103'400u);
}

TEST(edge_cases, auth_cases_mark_their_pages) {
  edge_run run({{"auth-missing", 1}, {"auth-wrong", 1}});
  EXPECT_EQ(run.work->stats().auth_probes, 2);
}

TEST(edge_cases, an_unknown_name_is_refused_with_its_group) {
  try {
    expand_edge_cases({{"text-emojis", 1}});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("text-emoji"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gmsim
