// gmsim merge: in process on summaries built by summary_json, and end to end on the
// summaries of sharded dry runs.
#include "report/merge.hpp"

#include <gtest/gtest.h>

#include <random>

#include "binary_support.hpp"
#include "report/report.hpp"

namespace gmsim {
namespace {

using json = nlohmann::json;
using testing::run_gmsim;
using testing::scratch_dir;

constexpr const char* percentile_blocks[] = {"latency_ms",      "latency_uncorrected_ms",
                                             "delivery_lag_ms", "send_delay_ms",
                                             "start_delay_ms",  "page_rows",
                                             "page_bytes"};

json read_json(const std::string& path) { return json::parse(testing::read_text(path)); }

// Every count and every histogram-derived figure of merged equals whole's.
void expect_same_figures(const json& merged, const json& whole) {
  for (const char* section : {"sessions", "events", "requests", "rows", "histograms"}) {
    EXPECT_EQ(merged[section], whole[section]) << section;
  }
  for (const char* block : percentile_blocks) EXPECT_EQ(merged[block], whole[block]) << block;
  for (const char* field :
       {"profile", "seed", "start_time", "duration_ms", "deployments", "streams", "delivery",
        "session_model"}) {
    EXPECT_EQ(merged[field], whole[field]) << field;
  }
  EXPECT_EQ(merged["shard"], "1/1");
  EXPECT_EQ(merged["thresholds"], json::array());
}

// Fills stats with random requests, as a live worker would count them.
void fill(run_stats& s, std::mt19937_64& random, int requests) {
  std::lognormal_distribution<double> latency(9, 1.5);  // µs: a long tail
  for (int i = 0; i < requests; ++i) {
    int rows = static_cast<int>(random() % 500) + 1;
    bool ok = random() % 10 != 0;
    s.requests_attempted += 1;
    (ok ? s.requests_delivered : s.requests_rejected) += 1;
    (ok ? s.rows_delivered : s.rows_rejected) += rows;
    s.by_status[ok ? 200 : 503] += 1;
    s.rows_generated += rows;
    s.rows_by_type[i % webhook_type_count] += rows;
    s.requests_by_type[i % webhook_type_count] += 1;
    s.latency_us.record(static_cast<std::int64_t>(latency(random)));
    s.latency_uncorrected_us.record(static_cast<std::int64_t>(latency(random)));
    s.send_delay_us.record(static_cast<std::int64_t>(random() % 5000));
    s.start_delay_us.record(static_cast<std::int64_t>(random() % 700));
    s.lag_ms.record(static_cast<std::int64_t>(random() % 60000), rows);
    s.page_rows.record(rows);
    s.page_bytes.record(rows * 180);
  }
  s.requests_failed += 3;
  s.by_error[static_cast<int>(failure_kind::timeout)] += 3;
}

run_config shard_config(int index, int count) {
  run_config c;
  c.settings.name = "test";
  c.settings.seed = 3;
  c.shard = {index, count};
  return c;
}

TEST(merge, shards_merge_into_the_whole_runs_figures_exactly) {
  std::mt19937_64 random(11);
  std::vector<run_result> parts(3);
  run_result whole;
  for (auto& p : parts) {
    fill(p.stats, random, 700);
    p.deployments = 2;
    p.streams = 6;
    p.receiver = receiver_counts{};
    p.receiver->requests = 700;
    p.receiver->rows_by_type["rules"] = 5;
    whole.stats.merge(p.stats);
  }
  whole.deployments = 6;
  whole.streams = 18;
  std::vector<summary_file> inputs;
  for (int i = 0; i < 3; ++i) {
    inputs.push_back(
        {"part" + std::to_string(i + 1), summary_json(shard_config(i + 1, 3), parts[i])});
  }
  std::swap(inputs[0], inputs[2]);  // any order
  json merged = merge_summaries(inputs, false);
  expect_same_figures(merged, summary_json(shard_config(1, 1), whole));
  EXPECT_GT(merged["latency_ms"]["p999"].get<double>(), merged["latency_ms"]["p50"].get<double>());
  EXPECT_EQ(merged["receiver"]["requests"], 2100);
  EXPECT_EQ(merged["receiver"]["rows_by_type"]["rules"], 15);
  EXPECT_EQ(merged["merged_from"], json({"part3", "part2", "part1"}));
  EXPECT_EQ(merged["aborted"], false);
  EXPECT_FALSE(merged.contains("auth_probes"));

  // Sections only some runs write add up too, when present.
  inputs[0].doc["auth_probes"] = {{"sent", 4}, {"accepted", 0}};
  inputs[1].doc["auth_probes"] = {{"sent", 2}, {"accepted", 1}};
  inputs[1].doc["aborted"] = true;
  inputs[2].doc["aborted"] = false;
  merged = merge_summaries(inputs, false);
  EXPECT_EQ(merged["auth_probes"], json({{"sent", 6}, {"accepted", 1}}));
  EXPECT_EQ(merged["aborted"], true);
}

TEST(merge, refuses_what_is_not_one_runs_shards_unless_forced) {
  run_result r;
  std::mt19937_64 random(5);
  fill(r.stats, random, 10);
  auto a = summary_json(shard_config(1, 2), r);
  auto b = summary_json(shard_config(2, 2), r);
  auto expect_refused = [](std::vector<summary_file> inputs, const std::string& reason) {
    try {
      merge_summaries(inputs, false);
      ADD_FAILURE() << "merged despite: " << reason;
    } catch (const merge_error& e) {
      EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << e.what();
    }
    json forced = merge_summaries(inputs, true);
    EXPECT_EQ(forced["shard"], "merged");
  };
  auto other_seed = b;
  other_seed["seed"] = 4;
  expect_refused({{"a", a}, {"b", other_seed}}, "b: seed 4 differs from a's 3");
  auto other_start = b;
  other_start["start_time"] = 1;
  expect_refused({{"a", a}, {"b", other_start}}, "b: start_time 1 differs");
  auto other_profile = b;
  other_profile["profile"] = "x";
  expect_refused({{"a", a}, {"b", other_profile}}, "b: profile \"x\" differs");
  expect_refused({{"a", a}, {"c", a}}, "c: duplicate shard 1/2 (a has it too)");
  expect_refused({{"a", a}}, "a: shard 2/2 is missing");
  auto thirds = b;
  thirds["shard"] = "2/3";
  expect_refused({{"a", a}, {"b", thirds}}, "b: shard 2/3 is not of the same split as a's 1/2");
  auto merged = a;
  merged["shard"] = "merged";
  expect_refused({{"m", merged}, {"b", b}}, "m: shard \"merged\" is not I/N");

  json forced = merge_summaries({{"a", a}, {"c", a}}, true);
  EXPECT_EQ(forced["requests"]["attempted"], 2 * a["requests"]["attempted"].get<std::int64_t>());
  EXPECT_EQ(forced["profile"], "test");
  EXPECT_EQ(merge_summaries({{"a", a}, {"b", b}}, true)["shard"], "1/1");  // forced, but complete

  auto coarse = b;  // histograms of another resolution cannot merge, forced or not
  coarse["histograms"]["page_rows"] = histogram(1000, 2).to_json();
  EXPECT_THROW(merge_summaries({{"a", a}, {"b", coarse}}, true), merge_error);
}

// Issue 20: counts are integers in 0 .. INT64_MAX and their totals fit: two of INT64_MAX
// merged to -2, negative counts were summed, a string exited 1 with nlohmann's text.
TEST(merge, refuses_counts_that_are_not_counts_naming_the_file_and_field) {
  run_result r;
  std::mt19937_64 random(5);
  fill(r.stats, random, 10);
  const auto a = summary_json(shard_config(1, 2), r);
  const auto b = summary_json(shard_config(2, 2), r);
  auto expect_refused = [&](const json& bad, const std::string& reason) {
    try {
      merge_summaries({{"a", a}, {"b", bad}}, true);
      ADD_FAILURE() << "merged despite: " << reason;
    } catch (const merge_error& e) {
      EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << e.what();
    }
  };
  auto huge = b;
  huge["rows"]["generated"] = INT64_MAX;
  auto huge_a = a;
  huge_a["rows"]["generated"] = INT64_MAX;
  try {
    merge_summaries({{"a", huge_a}, {"b", huge}}, true);
    ADD_FAILURE() << "two INT64_MAX merged";
  } catch (const merge_error& e) {
    EXPECT_NE(std::string(e.what()).find("b: rows.generated: the total overflows a count"),
              std::string::npos)
        << e.what();
  }
  auto too_large = b;
  too_large["requests"]["by_status"]["200"] = json(std::uint64_t{1} << 63);
  expect_refused(too_large, "b: requests.by_status.200: 9223372036854775808 is too large");
  auto negative = b;
  negative["rows"]["delivered"] = -5;
  expect_refused(negative, "b: rows.delivered: -5 is negative");
  auto text = b;
  text["workers"] = "two";
  expect_refused(text, "b: workers is not a count: \"two\"");
  auto not_flag = b;
  not_flag["dry_run"] = 1;
  expect_refused(not_flag, "b: dry_run is not true or false: 1");
  auto wall = b;
  wall["wall_seconds"] = "long";
  expect_refused(wall, "b: wall_seconds is not a number of seconds");
  auto cause = b;
  cause["causes"] = {{"status 500", {{"requests", -1}, {"rows", 1}, {"example", ""}}}};
  expect_refused(cause, "b: causes.status 500.requests: -1 is negative");
}

class merge_binary : public ::testing::Test {
 protected:
  // A dry run of quickstart with a fixed seed and start time, shard "" for the whole.
  std::string dry_run(const std::string& shard, const std::string& name) {
    std::vector<std::string> args{
        "run",          "quickstart",           "--dry-run", "--seed",         "21",
        "--start-time", "2026-03-01T12:00:00Z", "--quiet",   "--summary-json", dir_.file(name)};
    // quickstart has one org: under the default webhook scope one shard takes it whole
    // and the other is empty. Per deployment, each shard has one of its two.
    args.insert(args.end(), {"--pacing-scope", "deployment"});
    if (!shard.empty()) {
      args.push_back("--shard");
      args.push_back(shard);
    }
    auto r = run_gmsim(args, dir_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return dir_.file(name);
  }
  scratch_dir dir_;
};

TEST_F(merge_binary, merged_shards_equal_the_unsharded_run) {
  auto a = dry_run("1/2", "a.json");
  auto b = dry_run("2/2", "b.json");
  auto whole = read_json(dry_run("", "all.json"));
  auto r = run_gmsim({"merge", b, a, "-o", dir_.file("m.json")}, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto merged = read_json(dir_.file("m.json"));
  ASSERT_GT(whole["requests"]["attempted"].get<std::int64_t>(), 0);
  ASSERT_GT(read_json(a)["requests"]["attempted"].get<std::int64_t>(), 0);
  ASSERT_GT(read_json(b)["requests"]["attempted"].get<std::int64_t>(), 0);
  expect_same_figures(merged, whole);
  EXPECT_EQ(merged["dry_run"], true);
}

TEST_F(merge_binary, bad_inputs_exit_2_naming_the_file) {
  auto a = dry_run("1/2", "a.json");
  auto b = dry_run("2/2", "b.json");
  std::ofstream(dir_.file("other_seed.json")) << [&] {
    auto doc = read_json(b);
    doc["seed"] = 22;
    return doc.dump();
  }();
  std::ofstream(dir_.file("not.json")) << "{\"requests\":";
  std::ofstream(dir_.file("huge.json")) << "{\"requests\": 1e999}";
  std::ofstream(dir_.file("receiver.json")) << R"({"requests": 3, "rows_accepted": 10})";
  struct bad_case {
    std::vector<std::string> inputs;
    std::string expect;
  } cases[] = {
      {{a, dir_.file("other_seed.json")}, "other_seed.json: seed 22 differs"},
      {{a, a}, "duplicate shard 1/2"},
      {{a}, "shard 2/2 is missing"},
      {{a, dir_.file("not.json")}, "not.json: not JSON"},
      {{a, dir_.file("huge.json")}, "huge.json: not a summary"},
      {{a, dir_.file("receiver.json")}, "receiver.json: not a gmsim summary"},
      {{a, dir_.file("missing.json")}, "missing.json: cannot read"},
  };
  for (const auto& c : cases) {
    auto args = c.inputs;
    args.insert(args.begin(), "merge");
    args.push_back("-o");
    args.push_back(dir_.file("m.json"));
    auto r = run_gmsim(args, dir_);
    EXPECT_EQ(r.exit_code, 2) << c.expect;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
  }
  EXPECT_EQ(run_gmsim({"merge", a, b}, dir_).exit_code, 2);  // no -o

  auto forced = run_gmsim(
      {"merge", a, dir_.file("other_seed.json"), "-o", dir_.file("f.json"), "--force"}, dir_);
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_EQ(read_json(dir_.file("f.json"))["shard"], "merged");
}

}  // namespace
}  // namespace gmsim
