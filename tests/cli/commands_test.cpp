// The small commands: gmsim example, validate and profiles.
#include "cli/cli_support.hpp"

class cli_example : public cli {};

TEST_F(cli_example, prints_a_valid_body_of_each_type) {
  for (const std::string type : {"variables", "rules", "session"}) {
    SCOPED_TRACE(type);
    auto r = gmsim({"example", type});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json body = json::parse(r.out, nullptr, false);
    ASSERT_FALSE(body.is_discarded()) << r.out;
    EXPECT_EQ(body["type"], type);
    EXPECT_TRUE(body["data"]["orgSlug"].is_string());
    EXPECT_TRUE(body["data"]["depSlug"].is_string());
    ASSERT_FALSE(body["data"]["rows"].empty());
    EXPECT_TRUE(body["data"]["rows"][0].contains(type)) << body.dump();
    EXPECT_GT(lines_of(r.out).size(), 5u);  // pretty-printed

    auto compact = gmsim({"example", type, "--compact"});
    ASSERT_EQ(compact.exit_code, 0) << compact.err;
    ASSERT_EQ(lines_of(compact.out).size(), 1u) << compact.out;
    EXPECT_EQ(json::parse(compact.out), body);
    auto v = gmsim({"validate", write(type + ".json", compact.out)});
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  }
}

TEST_F(cli_example, bogus_type_exits_2) {
  auto r = gmsim({"example", "bogus"});
  expect_usage_error(r, {"bogus", "variables, rules or session"});
  expect_usage_error(gmsim({"example"}), {"TYPE"});
}

// --- validate ---------------------------------------------------------------------------

class cli_validate : public cli {
 protected:
  json example(const std::string& type) {
    auto r = gmsim({"example", type, "--compact"});
    EXPECT_EQ(r.exit_code, 0);
    return json::parse(r.out);
  }
};

TEST_F(cli_validate, a_valid_body_passes) {
  auto f = write("ok.json", example("rules").dump());
  auto r = gmsim({"validate", f});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, f + ": valid\n");
}

TEST_F(cli_validate, faults_are_named_by_json_pointer_and_reason) {
  json rules = example("rules");
  rules["data"]["rows"][0]["rules"][0]["cid"] = "1";
  json many = example("variables");
  while (many["data"]["rows"].size() < 501) many["data"]["rows"].push_back(many["data"]["rows"][0]);
  json anonymous = example("session");
  anonymous["data"]["rows"][0].erase("identifier");
  struct fault_case {
    std::string name, body, pointer, reason;
  };
  const std::vector<fault_case> cases = {
      {"cid.json", rules.dump(), "/data/rows/0/rules/0/cid", "integer"},
      {"many.json", many.dump(), "/data/rows", "500"},
      {"anonymous.json", anonymous.dump(), "/data/rows/0", "identifier"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto f = write(c.name, c.body);
    auto r = gmsim({"validate", f});
    EXPECT_EQ(r.exit_code, 1);
    auto first = lines_of(r.out).at(0);
    EXPECT_EQ(first.rfind(f + ": " + c.pointer, 0), 0u) << first;
    EXPECT_TRUE(contains(first, c.reason)) << first;
    EXPECT_TRUE(contains(r.err, "fault")) << r.err;
  }
}

TEST_F(cli_validate, arbitrary_bytes_are_refused_with_a_reason) {
  std::mt19937 random(7);
  std::string bytes(4096, '\0');
  for (auto& b : bytes) b = static_cast<char>(random() & 0xff);
  for (const auto& [name, text] :
       std::vector<std::pair<std::string, std::string>>{{"random.bin", bytes},
                                                        {"empty.json", ""},
                                                        {"array.json", "[1,2]"},
                                                        {"cut.json", "{\"type\":\"rul"}}) {
    SCOPED_TRACE(name);
    auto f = write(name, text);
    auto r = gmsim({"validate", f});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    ASSERT_FALSE(r.out.empty());
    EXPECT_EQ(r.out.rfind(f + ": ", 0), 0u) << r.out;
    EXPECT_GT(lines_of(r.out).at(0).size(), f.size() + 8) << "no reason given: " << r.out;
    EXPECT_LE(lines_of(r.out).size(), 3u) << r.out;
    // The input's bytes are not echoed raw onto the terminal.
    for (unsigned char c : r.out)
      EXPECT_TRUE(c == '\n' || (c >= 0x20 && c < 0x7f)) << static_cast<int>(c);
  }
}

TEST_F(cli_validate, missing_file_exits_2) {
  auto f = file("nowhere.json");
  auto r = gmsim({"validate", f});
  expect_usage_error(r, {f, "No such file"});
  expect_usage_error(gmsim({"validate", scratch_.string()}), {scratch_.string(), "directory"});
  auto none = gmsim({"validate"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_EQ(none.out, "");
  EXPECT_TRUE(contains(none.err, "Usage: gmsim validate FILE")) << none.err;
}

TEST_F(cli_validate, a_corrupted_recording_line_is_reported_by_number) {
  ASSERT_EQ(gmsim({"run", "--dry-run", "--quiet", "--record", file("r.ndjson")}).exit_code, 0);
  auto lines = lines_of(read_text(path("r.ndjson")));
  ASSERT_GT(lines.size(), 5u);
  json third = json::parse(lines[2]);
  json body = json::parse(third["body"].get<std::string>());
  body["data"].erase("depSlug");
  third["body"] = body.dump();
  lines[2] = third.dump();
  lines[4] = "{\"t_ms\": 1, garbage";
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  auto f = write("bad.ndjson", text);
  auto r = gmsim({"validate", f});
  EXPECT_EQ(r.exit_code, 1);
  auto out = lines_of(r.out);
  ASSERT_EQ(out.size(), 2u) << r.out;
  EXPECT_EQ(out[0].rfind(f + ":3: /data", 0), 0u) << out[0];
  EXPECT_TRUE(contains(out[0], "depSlug")) << out[0];
  EXPECT_EQ(out[1].rfind(f + ":5: (body): recording line: not JSON", 0), 0u) << out[1];
  EXPECT_TRUE(contains(r.err, "2 fault")) << r.err;
}

// --- verify -------------------------------------------------------------------------------

// Issue 18: gmsim verify compares a recording's delivered rows with a store's export. An
// export of exactly the rows sent passes; each defect a store can have is named.
class cli_verify : public cli {
 protected:
  // A dry run's recording (with the edge cases that break stores) and an export of every
  // row it delivered, one a line, as a faithful store would give them back.
  void SetUp() override {
    cli::SetUp();
    auto r = gmsim({"run", "--dry-run", "--quiet", "--duration", "30s", "--edge-case",
                    "number-big-int", "--edge-case", "repeat-rule-twice", "--edge-case",
                    "value-long-string", "--record", file("run.ndjson")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto lines = lines_of(read_text(path("run.ndjson")));
    ASSERT_GT(lines.size(), 2u) << r.out << r.err;
    for (const auto& line : lines) {
      const json doc = json::parse(line);
      if (!doc.contains("body")) continue;
      const json body = json::parse(doc["body"].get<std::string>());
      for (const auto& row : body["data"]["rows"]) rows.push_back(row);
    }
    ASSERT_GT(rows.size(), 10u);
  }
  std::string export_of(const std::vector<json>& stored, const std::string& name) {
    std::string text;
    for (const auto& row : stored) text += row.dump() + "\n";
    return write(name, text);
  }
  std::vector<json> rows;
};

TEST_F(cli_verify, a_faithful_store_passes_and_every_defect_is_named) {
  auto same = gmsim({"verify", file("run.ndjson"), export_of(rows, "same.ndjson")});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  EXPECT_TRUE(contains(same.out, "✓ every delivered row is stored as sent")) << same.out;

  // The defects of a real store: JSON.parse rounds 2^53 + 1, a dedup key drops one of two
  // identical firings, a column cuts a long string, a TEXT column turns a number into a
  // string, and one row is stored twice.
  std::vector<json> bad;
  int big = 0, twice = 0, cut = 0, typed = 0;
  std::set<std::string> firings;
  for (auto row : rows) {
    if (row.contains("variables")) {
      for (auto& [name, value] : row["variables"].items()) {
        if (value.is_number_unsigned() && value.get<std::uint64_t>() == 9007199254740993ULL) {
          value = 9007199254740992.0;
          ++big;
        } else if (value.is_string() && value.get<std::string>().size() > 50'000) {
          value = value.get<std::string>().substr(0, 255);
          ++cut;
        }
      }
    }
    if (row.contains("rules")) {
      json kept = json::array();
      for (const auto& f : row["rules"]) {
        if (firings.insert(row["identifier"].dump() + f.dump()).second) {
          kept.push_back(f);
        } else {
          ++twice;
        }
      }
      row["rules"] = kept;
    }
    if (row.contains("session") && typed == 0) {
      row["session"]["created_at"] =
          std::to_string(row["session"]["created_at"].get<std::int64_t>());
      ++typed;
    }
    bad.push_back(row);
  }
  ASSERT_EQ(big, 1);
  ASSERT_GE(twice, 1);
  ASSERT_EQ(cut, 1);
  bad.push_back(bad.front());  // stored twice
  bad.push_back(json{{"identifier", "nobody@example.com"}, {"variables", {{"x", 1}}}});
  auto r = gmsim({"verify", file("run.ndjson"), export_of(bad, "bad.ndjson"), "--json",
                  file("v.json"), "--examples", "50"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "✗ the store differs")) << r.out;
  EXPECT_TRUE(contains(r.out, "number rounded: sent 9007199254740993, stored 9007199254740992"))
      << r.out;
  EXPECT_TRUE(contains(r.out, "string truncated")) << r.out;
  EXPECT_TRUE(contains(r.out, "type changed at /session/created_at: sent number")) << r.out;
  const json v = read_json("v.json");
  EXPECT_EQ(v["differs"], true);
  EXPECT_EQ(v["by_type"]["rules"]["missing"], twice);
  EXPECT_EQ(v["by_type"]["session"]["altered"], 1);
  EXPECT_EQ(v["alterations"]["number rounded"], 1);
  EXPECT_EQ(v["alterations"]["string truncated"], 1);
  EXPECT_EQ(v["alterations"]["type changed"], 1);
  std::int64_t duplicated = 0, unexpected = 0;
  for (const auto& [type, c] : v["by_type"].items()) {
    duplicated += c["duplicated"].get<std::int64_t>();
    unexpected += c["unexpected"].get<std::int64_t>();
  }
  EXPECT_GE(duplicated, 1);
  EXPECT_EQ(unexpected, 1);

  // An upserting store keeps the latest value: with --keep latest, earlier ones are not
  // missing.
  std::map<std::string, json> latest;
  std::vector<json> upserted;
  for (const auto& row : rows) {
    if (!row.contains("variables")) {
      upserted.push_back(row);
      continue;
    }
    for (const auto& [name, value] : row["variables"].items()) {
      latest[row["identifier"].dump() + "|" + name] =
          json{{"identifier", row["identifier"]}, {"variables", {{name, value}}}};
    }
  }
  for (const auto& [key, row] : latest) upserted.push_back(row);
  EXPECT_EQ(
      gmsim({"verify", file("run.ndjson"), export_of(upserted, "up.ndjson"), "--keep", "latest"})
          .exit_code,
      0);

  // Bad input: exit 2 naming the file and the line.
  expect_usage_error(gmsim({"verify", file("run.ndjson")}), {"RECORDING and EXPORT"});
  auto broken = gmsim(
      {"verify", file("run.ndjson"), write("broken.ndjson", "{\"identifier\":1}\nnot json\n")});
  EXPECT_EQ(broken.exit_code, 2) << broken.err;
  EXPECT_TRUE(contains(broken.err, "broken.ndjson:1: a row has none of")) << broken.err;
  // Deep JSON is refused before it is built (a document torn down by recursion crashed
  // merge and replay: issue 20).
  const std::string deep(200'000, '[');
  auto too_deep = gmsim({"verify", file("run.ndjson"), write("deep.ndjson", deep + "\n")});
  EXPECT_EQ(too_deep.exit_code, 2) << too_deep.err;
  EXPECT_TRUE(contains(too_deep.err, "deep.ndjson:1: nested deeper than 512 levels"))
      << too_deep.err;
  auto deep_recording =
      gmsim({"verify", write("deep-rec.ndjson", "{\"gmsim_record\":1}\n" + deep + "\n"),
             file("same.ndjson")});
  EXPECT_EQ(deep_recording.exit_code, 2) << deep_recording.err;
  EXPECT_TRUE(contains(deep_recording.err, "deep-rec.ndjson:2: nested deeper"))
      << deep_recording.err;
  auto not_recording = gmsim({"verify", file("same.ndjson"), file("same.ndjson")});
  EXPECT_EQ(not_recording.exit_code, 2);
  EXPECT_TRUE(contains(not_recording.err, "same.ndjson:1: not a recording")) << not_recording.err;
  expect_usage_error(gmsim({"verify", file("run.ndjson"), file("same.ndjson"), "--keep", "some"}),
                     {"--keep", "all or latest"});
}

// --- profiles ---------------------------------------------------------------------------

class cli_profiles : public cli {};

TEST_F(cli_profiles, lists_quickstart_with_its_description) {
  auto r = gmsim({"profiles"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex("(^|\n)quickstart +A small run of all three webhook types")))
      << r.out;
  EXPECT_FALSE(contains(r.out, "broken"));
  EXPECT_EQ(r.err, "");
}

// --- live runs over loopback --------------------------------------------------------------
