// Bad input to gmsim run: each refused with exit 2 and one line naming the file, field
// or option and the reason.
#include "cli/cli_support.hpp"

class cli_bad_input : public cli {};

TEST_F(cli_bad_input, stray_arguments_are_refused_not_ignored) {
  expect_usage_error(gmsim({"profiles", "quickstart"}), {"'quickstart'"});
  expect_usage_error(gmsim({"validate", "--compact"}), {"unknown option '--compact'"});
  expect_usage_error(gmsim({"example", "rules", "--pretty"}), {"'--pretty'"});
  expect_usage_error(gmsim({"example", "rules", "session"}), {"'session'"});
  // Without the check, receive would drop the 9000 and listen on 8080.
  expect_usage_error(gmsim({"receive", "9000"}, 30s), {"'9000'", "--listen"});
}

TEST_F(cli_bad_input, bad_options_name_the_option_and_the_reason) {
  struct bad_case {
    args arguments;
    std::vector<std::string> mentions;
  };
  const std::vector<bad_case> cases = {
      {{"run", "--dry-run", "--frobnicate"}, {"--frobnicate"}},
      {{"run", "--dry-run", "--duration", "5x"}, {"--duration", "5x", "unit"}},
      {{"run", "--dry-run", "--duration", "0"}, {"--duration"}},
      {{"run", "--dry-run", "--batch-rows", "0"}, {"--batch-rows", "0"}},
      {{"run", "--dry-run", "--shard", "3/2"}, {"--shard", "3/2"}},
      {{"run", "--dry-run", "--shard", "x"}, {"--shard", "'x'"}},
      {{"run", "--target", "ftp://x"}, {"--target", "ftp"}},
      {{"run", "--target", "not a url"}, {"--target", "not a URL"}},
      {{"run", "--target", "http://"}, {"--target", "no host"}},
      {{"run", "--target", "http://user:pw@127.0.0.1:1/"}, {"--target", "--auth-string"}},
      {{"run", "--dry-run", "--summary-json", "/nonexistent-dir/s.json"},
       {"--summary-json", "/nonexistent-dir/s.json", "No such file"}},
      {{"run", "--dry-run", "--record", "/"}, {"--record", "directory"}},
      {{"run", "--dry-run", "--lost-rows", "/nonexistent-dir/l.ndjson"},
       {"--lost-rows", "/nonexistent-dir/l.ndjson"}},
      {{"run", "--dry-run", "--start-time", "yesterday"}, {"--start-time", "yesterday"}},
      {{"run", "--dry-run", "--target", "http://127.0.0.1:1/"}, {"--dry-run", "--target"}},
      {{"run", "--dry-run", "--seed", "-1"}, {"--seed", "'-1'"}},
      {{"run", "--dry-run", "--seed", "18446744073709551616"}, {"--seed"}},
      {{"run", "--dry-run", "--workers", "0"}, {"--workers"}},
      {{"run", "--dry-run", "--time-scale", "0"}, {"--time-scale"}},
      {{"run", "--dry-run", "--header", "no colon"}, {"--header"}},
      // Issue 20: a name with CR/LF was echoed raw, a second line on the terminal.
      {{"run", "--dry-run", "--header", "X-A\r\nX-Evil: b"}, {"--header", "'X-A\\r\\nX-Evil'"}},
      {{"run", "--dry-run", "quickstart", "quickstart"}, {"one profile"}},
      {{"run", "--dry-run", "--pacing-scope", "org"}, {"--pacing-scope", "webhook", "'org'"}},
      {{"run", "--dry-run", "--compare", "seed"}, {"--compare", "pacing_scope", "'seed'"}},
      {{"run", "--compare", "pacing_scope"}, {"--compare", "--dry-run"}},
      {{"run", "--dry-run", "--compare", "pacing_scope", "--pacing-scope", "stream"},
       {"--compare", "--pacing-scope"}},
      {{"run", "--dry-run", "--compare", "pacing_scope", "--record", "r.ndjson"},
       {"--compare", "--record"}},
      {{"receive", "--gap-scope", "org"}, {"--gap-scope", "webhook", "'org'"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.arguments));
    auto r = gmsim(c.arguments);
    expect_usage_error(r, c.mentions);
    // A URL may hold credentials: errors never quote it.
    EXPECT_FALSE(contains(r.err, "user:pw")) << r.err;
  }
  EXPECT_FALSE(fs::exists("/nonexistent-dir"));
}

TEST_F(cli_bad_input, profile_syntax_error_gives_file_line_and_column) {
  auto f = write("broken.json", "{\n  \"duration\": \"1m\",\n  \"seed\": 1,,\n}\n");
  expect_usage_error(gmsim({"run", "--dry-run", f}), {f + ":3:"});
  auto r = gmsim({"run", "--dry-run", f});
  EXPECT_TRUE(std::regex_search(
      r.err, std::regex(std::regex_replace(f, std::regex("[.]"), "\\.") + ":3:\\d+")))
      << r.err;
}

TEST_F(cli_bad_input, profile_unknown_key_suggests_the_right_one) {
  auto f =
      write("typo.json",
            "{\n  \"duration\": \"1m\",\n  \"delivery\": {\n    \"max_dealy\": \"10s\"\n  }\n}\n");
  expect_usage_error(gmsim({"run", "--dry-run", f}),
                     {f + ":4: delivery", "'max_dealy'", "did you mean 'max_delay'"});
}

TEST_F(cli_bad_input, profile_wrong_type_names_the_field) {
  auto f = write("type.json",
                 "{\n  \"duration\": \"1m\",\n  \"delivery\": { \"batch_rows\": \"many\" }\n}\n");
  expect_usage_error(gmsim({"run", "--dry-run", f}), {f + ":3", "delivery.batch_rows"});
}

TEST_F(cli_bad_input, missing_profile_file_is_named) {
  auto f = file("nowhere.json");
  expect_usage_error(gmsim({"run", "--dry-run", f}), {f});
}

TEST_F(cli_bad_input, unknown_builtin_profile_suggests_one) {
  expect_usage_error(gmsim({"run", "--dry-run", "quickstrat"}), {"quickstrat", "quickstart"});
}

// The catalogue of bad input (docs/cli.md, "Errors and exit codes"): every row exits 2 with
// nothing on stdout and exactly one line on stderr, "gmsim <command>: ...", naming the file,
// line, field or option, and the reason. None needs the network: each fails before it.
TEST_F(cli_bad_input, catalogue_one_line_each) {
  const auto profile = [&](const std::string& name, const std::string& text) {
    return write(name, text);
  };
  const auto broken = profile("broken.json", "{\n  \"duration\": \"1m\",\n  \"seed\": 1,,\n}\n");
  const auto typo =
      profile("typo.json", "{\n  \"delivery\": {\n    \"max_dealy\": \"10s\"\n  }\n}\n");
  const auto type = profile("type.json", "{\n\n  \"delivery\": { \"batch_rows\": \"many\" }\n}");
  const auto negative = profile("negative.json", R"({"duration": "-5s"})");
  const auto zero = profile("zero.json", R"({"duration": 0})");
  const auto no_viewers = profile("viewers.json", R"({"viewers": {"count": 0}})");
  const auto unit = profile("unit.json", R"({"session": {"length": "5 fortnights"}})");
  const auto rate_unit = profile("rate_unit.json", R"({"arrival": {"rate": "10/d"}})");
  const auto huge_rate = profile("huge.json", R"({"arrival": {"rate": 1e12}})");
  const auto huge_string = profile("huge_string.json", R"({"arrival": {"rate": "1e400/s"}})");
  const auto spike = profile("spike.json", R"({"arrival": {"rate": "5/s",
      "spikes": [{"at": "1m", "duration": "10s", "factor": 1000000}]}})");
  const auto ramp =
      profile("ramp.json", R"({"arrival": {"stages": [{"duration": "1m", "rate": "-5/s"}]}})");
  const auto silent = profile("silent.json", R"({"arrival": {"rate": 0}})");
  const auto not_recording = write("notes.txt", "hello\n");
  const auto not_json = write("summary.txt", "not json\n");
  // Issue 20: JSON 200,000 deep crashed merge and replay (SIGSEGV); refused at 512.
  const std::string deep = std::string(200'000, '[') + std::string(200'000, ']');
  const auto deep_summary = write("deep.json", "{\"sessions\":" + deep + "}");
  const auto deep_recording = write("deep.ndjson",
                                    "{\"gmsim_record\":1,\"version\":\"0.2.0\",\"profile\":\"x\","
                                    "\"seed\":1,\"start_time\":0}\n{\"t_ms\":" +
                                        deep + "}\n");
  const auto ok_profile = profile("ok.json", R"({"duration": "10s"})");
  // Issue 20: profiles that asked for unbounded memory. 100 orgs of 100,000 deployments
  // were accepted (10^6 took 4.7 GB); /dev/zero was read until memory ran out; weights of
  // 1e308 summed to infinity and gave every deployment 0 sessions, silently.
  const auto fleet =
      profile("fleet.json", R"({"orgs": {"count": 100, "deployments": {"count": 100000}}})");
  std::string listed = R"({"orgs": [)";
  for (int i = 0; i < 11; ++i) {
    listed += std::string(i ? "," : "") + R"({"slug": "o)" + std::to_string(i) +
              R"(", "deployments": {"count": 10000}})";
  }
  const auto listed_fleet = profile("listed.json", listed + "]}");
  const auto nul_name = profile("nul.json", R"({"name": "ab\u0000cd"})");
  const auto weights = profile("weights.json", R"({"orgs": [{"slug": "a", "deployments": [
      {"slug": "x", "weight": 1e308}, {"slug": "y", "weight": 1e308}]}]})");
  const std::string missing = file("missing.json");
  const std::string dir = scratch_.string();
  const std::string nowhere = "/nonexistent-dir/out";

  struct bad_case {
    args arguments;
    std::vector<std::string> mentions;
  };
  const std::vector<bad_case> cases = {
      // profiles: file, line, field, reason
      {{"run", "--dry-run", broken}, {broken + ":3:", "syntax error"}},
      {{"run", "--dry-run", typo},
       {typo + ":3: delivery", "'max_dealy'", "did you mean 'max_delay'"}},
      {{"run", "--dry-run", type}, {type + ":3: delivery.batch_rows", "expected an integer"}},
      {{"run", "--dry-run", negative}, {negative + ":1: duration", "negative"}},
      {{"run", "--dry-run", zero}, {zero + ":1: duration", "more than 0"}},
      {{"run", "--dry-run", no_viewers}, {"viewers.count", "from 1"}},
      {{"run", "--dry-run", unit}, {"session.length", "fortnights"}},
      {{"run", "--dry-run", rate_unit}, {"arrival.rate", "unknown rate unit 'd'", "/s, /m or /h"}},
      {{"run", "--dry-run", huge_rate}, {huge_rate + ":1: arrival", "1000000 sessions/s"}},
      {{"run", "--dry-run", huge_string}, {"arrival.rate", "too large"}},
      {{"run", "--dry-run", spike}, {spike + ":1: arrival", "5000000/s at 1m", "spike"}},
      {{"run", "--dry-run", ramp}, {"arrival.stages[0].rate", "negative"}},
      {{"run", "--dry-run", silent}, {"arrival.rate", "no sessions"}},
      {{"run", "--dry-run", missing}, {missing, "cannot read", "No such file"}},
      {{"run", "--dry-run", dir + "/"}, {dir, "Is a directory"}},
      {{"run", "--dry-run", "quickstrat"},
       {"unknown profile 'quickstrat'", "did you mean 'quickstart'"}},
      // run: options
      {{"run", "--frobnicate"}, {"unknown option '--frobnicate'", "gmsim run --help"}},
      {{"run", "--recrod", "x"}, {"unknown option '--recrod'", "did you mean '--record'"}},
      {{"run", "--dry-run", "--duration", "5x"}, {"--duration", "unknown unit 'x'"}},
      {{"run", "--dry-run", "--duration", "0"}, {"--duration", "at least"}},
      {{"run", "--dry-run", "--duration", "-5s"}, {"--duration", "negative"}},
      {{"run", "--time-scale", "1e-300"}, {"--time-scale", "[0.001, 1e6]"}},
      {{"run", "--connect-timeout", "0s"}, {"--connect-timeout"}},
      {{"run", "--dry-run", "--max-delay", "0"}, {"--max-delay", "at least"}},
      {{"run", "--dry-run", "--batch-rows", "0"}, {"--batch-rows", "1..100000"}},
      {{"run", "--dry-run", "--max-queued-rows", "0"}, {"--max-queued-rows", "1..1000000000"}},
      {{"run", "--dry-run", "--workers", "0"}, {"--workers", "1..256"}},
      {{"run", "--dry-run", "--workers", "two"}, {"--workers", "'two'"}},
      {{"run", "--dry-run", "--seed", "-1"}, {"--seed", "'-1'"}},
      {{"run", "--dry-run", "--time-scale", "0"}, {"--time-scale"}},
      {{"run", "--dry-run", "--start-time", "yesterday"}, {"--start-time", "yesterday"}},
      {{"run", "--dry-run", "--duration", "100000000h"},
       {"--duration: at most 30 days (720h), got 100000000h"}},
      {{"run", "--dry-run", "--start-time", "9999-12-31T23:00:00Z", "--duration", "2h"},
       {"duration: 2h from the start time 9999-12-31T23:00:00.000Z"}},
      {{"run", "--dry-run", "--shard", "0/2"}, {"--shard", "'0/2'", "1 <= I <= N"}},
      {{"run", "--dry-run", "--shard", "3/2"}, {"--shard", "'3/2'"}},
      {{"run", "--dry-run", "--shard", "1/0"}, {"--shard", "'1/0'"}},
      {{"run", "--dry-run", "--shard", "x"}, {"--shard", "'x'"}},
      {{"run", "--dry-run", "--threshold", "p99<<5ms"}, {"--threshold", "'p99<<5ms'"}},
      {{"run", "--dry-run", "--threshold", "bogus<1"}, {"--threshold", "bogus"}},
      {{"run", "--dry-run", "--edge-case", "emoij"}, {"--edge-case", "emoij"}},
      {{"run", "--target", "ftp://x/"}, {"--target", "scheme 'ftp'"}},
      {{"run", "--target", "not a url"}, {"--target", "not a URL"}},
      {{"run", "--target", "http://"}, {"--target", "no host"}},
      {{"run", "--target", "http://127.0.0.1:99999/"}, {"--target", "99999", "out of range"}},
      {{"run", "--target", "http://127.0.0.1:8O8O/hook"}, {"--target", "the port is not a number"}},
      {{"run", "--dry-run", "--target", "http://127.0.0.1:1/"}, {"--dry-run", "--target"}},
      {{"run", "--dry-run", "--header", "no colon"}, {"--header", "Name: value"}},
      {{"run", "--dry-run", "--header", "X-Api-Key:"}, {"--header", "'X-Api-Key' has no value"}},
      {{"run", "--dry-run", "--header", "X-A: a\r\nX-B: b"}, {"--header", "'X-A'", "line break"}},
      {{"run", "--dry-run", "--auth-string", "a\nb"}, {"--auth-string", "line break"}},
      {{"run", "--dry-run", "--ca-file", missing}, {"--ca-file", missing, "No such file"}},
      {{"run", "--target", "https://127.0.0.1:1/", "--no-auth", "--ca-file", not_recording},
       {"gmsim run: --ca-file: " + not_recording + ": not a PEM certificate bundle"}},
      // GMetri always sends an auth string: none, by mistake, is refused (issue 18).
      {{"run", "--target", "http://127.0.0.1:1/"},
       {"gmsim run: no auth string: neither --auth-string nor GMSIM_AUTH_STRING is set",
        "--no-auth"}},
      {{"run", "--target", "http://127.0.0.1:1/", "--auth-string", ""},
       {"--auth-string is empty", "--no-auth"}},
      {{"run", "--target", "http://127.0.0.1:1/", "--auth-string", "x", "--no-auth"},
       {"--no-auth: --auth-string is given too"}},
      {{"replay", not_recording, "--target", "http://127.0.0.1:1/"},
       {"gmsim replay: no auth string", "--no-auth"}},
      {{"run", "--dry-run", "--summary-json", nowhere},
       {"--summary-json", nowhere, "No such file"}},
      {{"run", "--dry-run", "--html", nowhere}, {"--html", nowhere}},
      {{"run", "--dry-run", "--junit", nowhere}, {"--junit", nowhere}},
      {{"run", "--dry-run", "--record", dir}, {"--record", "directory"}},
      {{"run", "--dry-run", "--lost-rows", nowhere}, {"--lost-rows", nowhere}},
      {{"run", "--dry-run", ok_profile, "quickstart"}, {"one profile", "'quickstart'"}},
      // receive
      {{"receive", "--bogus"}, {"unknown option '--bogus'", "gmsim receive --help"}},
      {{"receive", "--listne", "127.0.0.1:0"}, {"did you mean '--listen'"}},
      {{"receive", "9000"}, {"'9000'", "--listen"}},
      {{"receive", "--listen", "bogus"}, {"--listen", "bogus"}},
      {{"receive", "--status", "42"}, {"--status", "100..599"}},
      {{"receive", "--fail-ratio", "2"}, {"--fail-ratio", "[0, 1]"}},
      {{"receive", "--duration", "0"}, {"--duration"}},
      {{"receive", "--latency", "2s:1s"}, {"--latency", "MAX is below MIN"}},
      {{"receive", "--summary-json", nowhere}, {"--summary-json", nowhere}},
      // replay
      {{"replay", "--target", "http://127.0.0.1:1/"}, {"FILE is missing"}},
      {{"replay", missing, "--target", "http://127.0.0.1:1/", "--no-auth"},
       {missing, "cannot read"}},
      {{"replay", not_recording, "--target", "http://127.0.0.1:1/", "--no-auth"},
       {not_recording + ":1", "not a recording"}},
      {{"replay", dir, "--target", "http://127.0.0.1:1/", "--no-auth"}, {dir}},
      {{"replay", not_recording}, {"--target is required"}},
      {{"replay", not_recording, "--target", "ftp://x/"}, {"--target", "scheme 'ftp'"}},
      {{"replay", not_recording, "--target", "localhost"}, {"--target", "not a URL"}},
      {{"replay", not_recording, "--traget", "http://127.0.0.1:1/"}, {"did you mean '--target'"}},
      {{"replay", not_recording, "--target", "http://127.0.0.1:1/", "--summary-json", nowhere},
       {"--summary-json", nowhere}},
      {{"replay", not_recording, "--target", "http://127.0.0.1:1/", "--ca-file", missing},
       {"--ca-file", missing}},
      {{"replay", not_recording, "--target", "http://127.0.0.1:1/", "--time-scale", "0"},
       {"--time-scale"}},
      {{"run", "--dry-run", fleet}, {fleet, "orgs", "10000000 deployments", "at most 100000"}},
      {{"run", "--dry-run", listed_fleet},
       {listed_fleet, "orgs[10]", "110000 deployments", "at most 100000"}},
      {{"run", "--dry-run", profile("long.json", R"({"duration": "721h"})")},
       {"long.json", "duration", "at most 30 days"}},
      {{"run", "--dry-run", "--duration", "721h"}, {"--duration", "at most 30 days"}},
      {{"run", "--dry-run", nul_name}, {nul_name, "name", "control character (\\u0000)"}},
      {{"run", "--dry-run", weights}, {weights, "deployments[0].weight", "1000000000"}},
      {{"run", "--dry-run", "/dev/zero"}, {"/dev/zero", "larger than 16 MiB", "profile"}},
      {{"run", "--dry-run", "--edge-case", "all:100", "--max-memory", "100MiB"},
       {"needs an estimated", "3900 edge-case instances", "100 MiB are available (--max-memory)"}},
      {{"run", "--dry-run", "--max-memory", "lots"}, {"--max-memory", "8GiB", "'lots'"}},
      {{"run", "--dry-run", "--max-memory", "0MiB"}, {"--max-memory"}},
      // merge
      {{"merge", "-o", file("m.json")}, {"no input"}},
      {{"merge", not_json}, {"-o OUT is required"}},
      {{"merge", missing, "-o", file("m.json")}, {missing, "cannot read"}},
      {{"merge", not_json, "-o", file("m.json")}, {not_json, "not JSON"}},
      {{"merge", not_json, "-o", nowhere}, {"--output", nowhere}},
      // Two outputs in one file: refused before the run (issue 20); devices may take several.
      {{"run", "--dry-run", "--junit", file("same.xml"), "--html", file("./same.xml")},
       {"--html and --junit name the same file"}},
      {{"replay", not_recording, "--target", "http://127.0.0.1:1/", "--no-auth", "--record",
        file("r.ndjson"), "--lost-rows", file("r.ndjson")},
       {"--record and --lost-rows name the same file"}},
      {{"merge", deep_summary, "-o", file("m.json")},
       {deep_summary, "not a summary: nested deeper than 512 levels"}},
      {{"replay", deep_recording, "--target", "http://127.0.0.1:1/", "--no-auth"},
       {deep_recording + ":2", "nested deeper than 512 levels"}},
      {{"merge", not_json, "-o", file("m.json"), "--froce"}, {"did you mean '--force'"}},
      // the small commands
      {{"validate", "--strict", not_json}, {"unknown option '--strict'"}},
      {{"validate", missing}, {missing, "No such file"}},
      {{"example", "rules", "--pretty"}, {"unknown option '--pretty'", "--compact"}},
      {{"example", "rule"}, {"unknown TYPE 'rule'"}},
      {{"profiles", "quickstart"}, {"takes no arguments"}},
      {{"edge-cases", "all"}, {"takes no arguments"}},
      {{"frobnicate"}, {"unknown command 'frobnicate'"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.arguments));
    auto r = gmsim(c.arguments, 30s);
    expect_usage_error(r, c.mentions);
    const std::string prefix =
        c.arguments.front() == "frobnicate" ? "gmsim: " : "gmsim " + c.arguments.front() + ": ";
    EXPECT_EQ(r.err.rfind(prefix, 0), 0u) << r.err;
    // One message, not a stack of them ("error: ... caused by: ...").
    EXPECT_FALSE(contains(r.err, "caused by")) << r.err;
    EXPECT_FALSE(contains(r.err, "what()")) << r.err;
  }
  EXPECT_FALSE(fs::exists(file("m.json")));
  EXPECT_FALSE(fs::exists("/nonexistent-dir"));
}

// Issue 20: under a memory cap (`ulimit -v`, a small CI container) a profile that cannot
// fit is refused before it starts, with its estimate (before: std::bad_alloc, no report),
// and one that fits runs and writes its reports.
TEST_F(cli_bad_input, under_a_memory_cap_a_run_that_cannot_fit_is_refused_with_its_estimate) {
  // --max-memory off runs it anyway: the user's call. The same run under a 100 MiB
  // budget is refused (its estimate is 189 MiB), so off is what lets it through.
  const args hundred = {"run", "--dry-run",   "--quiet", "--duration",
                        "2s",  "--edge-case", "all:100"};
  auto budget = hundred;
  budget.insert(budget.end(), {"--max-memory", "100MiB"});
  expect_usage_error(gmsim(budget), {"needs an estimated 189 MiB"});
  auto unchecked = hundred;
  unchecked.insert(unchecked.end(), {"--max-memory", "off", "--summary-json", file("off.json")});
  const auto ran_anyway = gmsim(unchecked);
  EXPECT_EQ(ran_anyway.exit_code, 0) << ran_anyway.err;
  EXPECT_TRUE(fs::exists(path("off.json")));

  // ASan reserves terabytes of address space at start: no `ulimit -v` lets it run.
  if (gmsim::testing::built_with_address_sanitizer)
    GTEST_SKIP() << "a ulimit -v cap does not fit ASan's reserve";
  constexpr std::uint64_t one_gib = 1u << 30;
  gmsim_process huge({"run", "--dry-run", "--workers", "2", "--edge-case", "all:2000",
                      "--summary-json", file("huge.json")},
                     file("huge.out"), file("huge.err"), {}, one_gib);
  const auto refused = huge.wait(120s);
  expect_usage_error(refused, {"needs an estimated", "78000 edge-case instances", "ulimit -v"});
  EXPECT_FALSE(fs::exists(path("huge.json")));

  gmsim_process fits(
      {"run", "--dry-run", "--quiet", "--workers", "2", "--summary-json", file("fits.json")},
      file("fits.out"), file("fits.err"), {}, one_gib);
  const auto ran = fits.wait(120s);
  EXPECT_EQ(ran.exit_code, 0) << ran.err;
  EXPECT_GT(read_json("fits.json")["rows"]["delivered"].get<std::int64_t>(), 0);
}

// Issue 20: validate printed a body's keys raw (an escape sequence, a line break) and a
// 1 MB key whole; an error echoed a file name's control characters.
TEST_F(cli_bad_input, validate_prints_keys_and_paths_on_one_line_and_cut) {
  const std::string key(1'000'000, 'k');
  const auto body = write("body.json", R"({"type":"variables","\u001b[31mred\n":1,")" + key +
                                           R"(":2,"data":{"orgSlug":"a","depSlug":"b","rows":[)"
                                           R"({"identifier":"x","variables":{"v":1}}]}})");
  const auto r = gmsim({"validate", body});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
  EXPECT_LT(r.out.size(), 4000u);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2) << r.out;  // one line a fault
  EXPECT_TRUE(contains(r.out, "\\u001B[31mred\\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "... (1000001 bytes)")) << r.out.substr(0, 300);

  const auto missing = gmsim({"validate", file("no\x1b[31m\nsuch")});
  expect_usage_error(missing, {"no\\u001B[31m\\nsuch", "cannot read"});
}

// The built-in backlog profile overloads GMetri's pacing on purpose: never refused as a
// rate it "cannot meet".
TEST_F(cli_bad_input, the_backlog_profile_is_not_refused) {
  auto r = gmsim({"run", "backlog", "--dry-run", "--quiet", "--duration", "40s"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// --- example ----------------------------------------------------------------------------
