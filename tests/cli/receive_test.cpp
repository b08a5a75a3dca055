// gmsim receive as a command, and gmsim run against it.
#include "cli/cli_support.hpp"

class cli_receive : public cli {};

TEST_F(cli_receive, listens_counts_and_stops_by_itself) {
  std::unique_ptr<gmsim_process> receiver;
  int port = start_receiver(receiver, {"--duration", "2s", "--summary-json", file("counts.json")});
  ASSERT_GT(port, 0);
  auto r = receiver->wait(30s);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "gmsim receive: stopped")) << r.err;
  json counts = read_json("counts.json");
  ASSERT_TRUE(counts.is_object());
  for (const char* k : {"requests", "valid", "invalid", "unauthorized", "rows_accepted"}) {
    EXPECT_EQ(counts[k], 0) << k;
  }
}

// Issue 20: SIGTERM (a container stop) waited up to the request timeout for requests in
// flight, and a SIGKILL 10 s later left no report. Now requests in flight get
// --stop-grace, then are cut; the reports are written and the exit code is 143.
TEST_F(cli_receive, sigterm_gives_requests_in_flight_a_grace_then_writes_the_reports) {
  std::unique_ptr<gmsim_process> receiver;
  const int port = start_receiver(receiver, {"--latency", "60s", "--duration", "120s"});
  ASSERT_GT(port, 0);
  auto run =
      start({"run", "--no-auth", "--target", "http://127.0.0.1:" + std::to_string(port) + "/hook",
             "--duration", "10m", "--timeout", "90s", "--stop-grace", "1s", "--quiet",
             "--summary-json", file("s.json")});
  std::this_thread::sleep_for(3s);  // requests are in flight: the receiver holds them 60 s
  const auto signalled = std::chrono::steady_clock::now();
  run->signal(SIGTERM);
  auto r = run->wait(60s);
  const auto took = std::chrono::steady_clock::now() - signalled;
  receiver->signal(SIGTERM);
  receiver->wait(30s);
  EXPECT_EQ(r.exit_code, 143) << r.err;
  EXPECT_TRUE(contains(r.err,
                       "stopping (SIGTERM): letting requests in flight finish for up to "
                       "1000 ms"))
      << r.err;
  EXPECT_LT(took, 20s);  // not the 90 s timeout, nor the receiver's 60 s
  const json s = read_json("s.json");
  EXPECT_EQ(s["interrupted"], true);
  EXPECT_GT(s["requests"]["attempted"].get<std::int64_t>(), 0);
  EXPECT_EQ(s["requests"]["delivered"], 0);
  // Cut while waiting for the answer: the body was written, the rows may be stored.
  EXPECT_EQ(s["requests"]["unacknowledged"], s["requests"]["attempted"]);
}

TEST_F(cli_receive, bad_options_exit_2) {
  expect_usage_error(gmsim({"receive", "--listen", "bogus", "--duration", "1s"}, 30s),
                     {"--listen", "bogus"});
  expect_usage_error(gmsim({"receive", "--listen", "127.0.0.1:0", "--duration", "0"}, 30s),
                     {"--duration"});
  expect_usage_error(gmsim({"receive", "--listen", "127.0.0.1:0", "--max-body", "-1"}, 30s),
                     {"--max-body", "'-1'"});
  expect_usage_error(gmsim({"receive", "--listen", "127.0.0.1:0", "--status", "42"}, 30s),
                     {"--status", "42"});
  expect_usage_error(gmsim({"receive", "--listen", "127.0.0.1:0", "--latency", "5x"}, 30s),
                     {"--latency", "5x"});
  expect_usage_error(gmsim({"receive", "--bogus"}, 30s), {"--bogus"});
}

TEST_F(cli_receive, port_in_use_exits_1_naming_the_address) {
  int port = 0;
  const int held = listen_on_loopback(port);
  ASSERT_GE(held, 0);
  std::string listen = "127.0.0.1:" + std::to_string(port);
  auto r = gmsim({"receive", "--listen", listen, "--duration", "1s"}, 30s);
  ::close(held);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
  EXPECT_TRUE(contains(r.err, listen)) << r.err;
}

TEST_F(cli_receive, run_against_receive_right_and_wrong_auth_string) {
  const std::string secret = "pair-secret-0123456789abcdef";
  std::unique_ptr<gmsim_process> receiver;
  int port = start_receiver(receiver, {"--auth-string", secret, "--duration", "30s",
                                       "--summary-json", file("counts.json")});
  ASSERT_GT(port, 0);
  const std::string target = "http://127.0.0.1:" + std::to_string(port) + "/hook";
  auto live = [&](const std::string& auth, const std::string& summary) {
    return gmsim(
        {"run", "--target", target, "--auth-string", auth, "--duration", "3s", "--time-scale", "3",
         "--max-delay", "3s",  // the final flushes within a second of real time
         "--summary-json", file(summary), "--lost-rows", file(summary + ".lost"), "--quiet"},
        60s);
  };
  auto good = live(secret, "good.json");
  ASSERT_EQ(good.exit_code, 0) << good.err;
  json g = read_json("good.json");
  expect_summary_contract(g);
  EXPECT_EQ(g["target"], target);
  EXPECT_GT(g["requests"]["attempted"].get<std::int64_t>(), 0);
  EXPECT_EQ(g["requests"]["delivered"], g["requests"]["attempted"]);
  EXPECT_EQ(g["rows"]["delivered"], g["rows"]["generated"]);
  EXPECT_FALSE(g.contains("receiver"));  // not the embedded one
  EXPECT_EQ(read_text(path("good.json.lost")), "");

  auto bad = live("wrong-secret-0123456789abcdef", "bad.json");
  ASSERT_EQ(bad.exit_code, 0) << bad.err;
  json b = read_json("bad.json");
  expect_summary_contract(b);
  EXPECT_GT(b["requests"]["attempted"].get<std::int64_t>(), 0);
  EXPECT_EQ(b["requests"]["rejected"], b["requests"]["attempted"]);
  EXPECT_EQ(b["requests"]["by_status"]["401"], b["requests"]["attempted"]);
  EXPECT_EQ(b["rows"]["rejected"], b["rows"]["generated"]);
  EXPECT_EQ(b["rows"]["delivered"], 0);
  EXPECT_TRUE(std::regex_search(bad.out, std::regex("statuses +401 x"))) << bad.out;
  auto lost = lines_of(read_text(path("bad.json.lost")));
  EXPECT_EQ(static_cast<std::int64_t>(lost.size()), b["rows"]["rejected"].get<std::int64_t>());
  for (const auto& line : lost) {
    json row = json::parse(line);
    EXPECT_EQ(row["reason"], "status 401") << line;
    EXPECT_EQ(row["outcome"], "rejected") << line;
  }

  receiver->signal(SIGTERM);
  auto stopped = receiver->wait(30s);
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_FALSE(
      contains(stopped.out + stopped.err + good.out + good.err + bad.out + bad.err, secret));
  json counts = read_json("counts.json");
  EXPECT_EQ(counts["rows_accepted"], g["rows"]["delivered"]);
  EXPECT_EQ(counts["unauthorized"], b["requests"]["attempted"]);
  EXPECT_EQ(counts["invalid"], 0);
}

// Issue 18: the auth probes are a check of their own. A receiver that refuses them passes
// the recommended gate (nothing lost, no errors); one that accepts them fails the run by
// default (exit 99, a failing JUnit case, the HTML's verdict), or only says so with
// --auth-probes report.
TEST_F(cli_receive, an_accepted_auth_probe_fails_the_run_and_a_refused_one_loses_nothing) {
  const std::string secret = "probe-secret-0123456789abcdef";
  auto run_against = [&](int port, const std::string& name, args extra) {
    args a = {"run",
              "wrong-auth",
              "--target",
              "http://127.0.0.1:" + std::to_string(port) + "/hook",
              "--auth-string",
              secret,
              "--duration",
              "30s",
              "--time-scale",
              "10",
              "--max-delay",
              "2s",
              "--quiet",
              "--threshold",
              "lost_rows==0",
              "--threshold",
              "error_rate<1%",
              "--summary-json",
              file(name + ".json"),
              "--junit",
              file(name + ".xml"),
              "--html",
              file(name + ".html"),
              "--lost-rows",
              file(name + ".lost")};
    a.insert(a.end(), extra.begin(), extra.end());
    return gmsim(a, 90s);
  };
  std::unique_ptr<gmsim_process> strict;
  int port = start_receiver(strict, {"--auth-string", secret, "--duration", "60s"});
  ASSERT_GT(port, 0);
  auto good = run_against(port, "strict", {});
  strict->signal(SIGTERM);
  strict->wait(30s);
  EXPECT_EQ(good.exit_code, 0) << good.out << good.err;
  json g = read_json("strict.json");
  expect_summary_contract(g);
  EXPECT_GT(g["auth_probes"]["sent"].get<std::int64_t>(), 0);
  EXPECT_EQ(g["auth_probes"]["accepted"], 0);
  EXPECT_EQ(g["rows"]["lost"], 0);
  EXPECT_EQ(g["requests"]["rejected"], 0);
  EXPECT_EQ(
      g["rows"]["delivered"].get<std::int64_t>() + g["rows"]["auth_probes"].get<std::int64_t>(),
      g["rows"]["generated"].get<std::int64_t>());
  EXPECT_TRUE(contains(good.out, "all refused (good)")) << good.out;
  EXPECT_TRUE(contains(good.out, "✓ auth_probes_accepted==0")) << good.out;
  EXPECT_TRUE(contains(read_text(path("strict.xml")), "failures=\"0\""))
      << read_text(path("strict.xml"));
  for (const auto& line : lines_of(read_text(path("strict.lost")))) {
    EXPECT_EQ(json::parse(line)["auth_probe"], true) << line;
  }

  std::unique_ptr<gmsim_process> open;
  port = start_receiver(open, {"--duration", "60s"});
  ASSERT_GT(port, 0);
  auto bad = run_against(port, "open", {});
  auto reported = run_against(port, "reported", {"--auth-probes", "report"});
  open->signal(SIGTERM);
  open->wait(30s);
  EXPECT_EQ(bad.exit_code, 99) << bad.out << bad.err;
  json b = read_json("open.json");
  EXPECT_EQ(b["auth_probes"]["accepted"], b["auth_probes"]["sent"]);
  EXPECT_EQ(b["auth_probes_gate"], "fail");
  EXPECT_EQ(b["rows"]["lost"], 0);
  EXPECT_TRUE(contains(bad.out, "SECURITY FINDING")) << bad.out;
  EXPECT_TRUE(contains(bad.out, "✗ auth_probes_accepted==0")) << bad.out;
  const std::string junit = read_text(path("open.xml"));
  EXPECT_TRUE(contains(junit, "name=\"auth_probes_accepted==0\"")) << junit;
  EXPECT_TRUE(contains(junit, "failures=\"1\"")) << junit;
  EXPECT_TRUE(contains(read_text(path("open.html")), "auth_probes_accepted==0"));
  EXPECT_EQ(reported.exit_code, 0) << reported.out << reported.err;
  EXPECT_EQ(read_json("reported.json")["auth_probes_gate"], "report");
  EXPECT_TRUE(contains(reported.out, "SECURITY FINDING")) << reported.out;
  EXPECT_FALSE(contains(good.out + good.err + bad.out + bad.err + read_text(path("open.html")) +
                            read_text(path("open.json")),
                        secret));
  expect_usage_error(gmsim({"run", "wrong-auth", "--dry-run", "--auth-probes", "maybe"}, 30s),
                     {"--auth-probes", "fail or report"});
}

// Issue 18: a replay gates CI as a run does (--threshold, --junit, --html, exit 99), and
// its summary says why requests failed, with the receiver's own words.
TEST_F(cli_receive, replay_takes_thresholds_and_reports_why_requests_failed) {
  auto dry = gmsim({"run", "--dry-run", "--quiet", "--record", file("rec.ndjson")}, 60s);
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  std::unique_ptr<gmsim_process> receiver;
  const int port = start_receiver(receiver, {"--status", "500", "--duration", "60s"});
  ASSERT_GT(port, 0);
  auto r = gmsim(
      {"replay", file("rec.ndjson"), "--no-auth", "--target",
       "http://127.0.0.1:" + std::to_string(port) + "/hook", "--time-scale", "100", "--quiet",
       "--threshold", "lost_rows==0", "--threshold", "requests>0", "--junit", file("replay.xml"),
       "--html", file("replay.html"), "--summary-json", file("replay.json")},
      60s);
  receiver->signal(SIGTERM);
  receiver->wait(30s);
  EXPECT_EQ(r.exit_code, 99) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "✗ lost_rows==0")) << r.out;
  EXPECT_TRUE(contains(r.out, "✓ requests>0")) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("why +status 500 x\\d+ \\(\\d+ rows\\): "
                                                  "\\{\"ok\":false,\"status\":500\\}")))
      << r.out;
  const json s = read_json("replay.json");
  EXPECT_EQ(s["causes"]["status 500"]["example"], "status 500: {\"ok\":false,\"status\":500}");
  EXPECT_EQ(s["causes"]["status 500"]["rows"], s["rows"]["rejected"]);
  EXPECT_TRUE(s.contains("replay_of"));
  EXPECT_EQ(s["thresholds"].size(), 2u);
  EXPECT_TRUE(contains(read_text(path("replay.xml")), "failures=\"2\""))  // + no rows lost
      << read_text(path("replay.xml"));
  EXPECT_TRUE(contains(read_text(path("replay.html")), "lost_rows==0"));
}

// Issue 18: --abort-on-fail judges a latency over a sliding window, after a grace: a run
// whose p99 crosses its limit stops early, as k6's abortOnFail does.
TEST_F(cli_receive, abort_on_fail_stops_a_run_whose_p99_crosses_its_limit) {
  std::unique_ptr<gmsim_process> receiver;
  const int port = start_receiver(receiver, {"--latency", "300ms", "--duration", "120s"});
  ASSERT_GT(port, 0);
  const auto began = std::chrono::steady_clock::now();
  auto r = gmsim({"run", "stress", "--no-auth", "--target",
                  "http://127.0.0.1:" + std::to_string(port) + "/hook", "--duration", "10m",
                  "--quiet", "--threshold", "p99<100ms", "--abort-on-fail", "--abort-grace", "1s",
                  "--abort-window", "2s", "--summary-json", file("s.json")},
                 120s);
  const auto took = std::chrono::steady_clock::now() - began;
  receiver->signal(SIGTERM);
  receiver->wait(30s);
  EXPECT_EQ(r.exit_code, 99) << r.out << r.err;
  EXPECT_TRUE(contains(r.err, "stopping: threshold 'p99<100ms' failed (p99 was at least")) << r.err;
  EXPECT_LT(took, 60s);  // not the 10 minutes
  const json s = read_json("s.json");
  EXPECT_EQ(s["aborted"], true);
  EXPECT_EQ(s["thresholds"][0]["ok"], false);
  expect_usage_error(gmsim({"run", "--dry-run", "--abort-window", "2s"}, 30s),
                     {"--abort-window", "only with --abort-on-fail"});
}

// Issue 18: a capacity search finds the knee of a receiver with a known capacity: the
// capacity profile raises the load until p99 fails over a window, and the knee (the most
// rows/s delivered in a window that met every threshold) is within 20% of the capacity.
TEST_F(cli_receive, the_capacity_profile_finds_the_knee_of_a_receiver_with_a_known_capacity) {
  std::unique_ptr<gmsim_process> receiver;
  const int port = start_receiver(receiver, {"--capacity", "5000", "--duration", "180s"});
  ASSERT_GT(port, 0);
  auto r = gmsim({"run", "capacity", "--no-auth", "--target",
                  "http://127.0.0.1:" + std::to_string(port) + "/hook", "--quiet", "--threshold",
                  "p99<300ms", "--abort-on-fail", "--abort-window", "3s", "--abort-grace", "3s",
                  "--summary-json", file("s.json")},
                 150s);
  receiver->signal(SIGTERM);
  receiver->wait(30s);
  EXPECT_EQ(r.exit_code, 99) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "knee ")) << r.out;
  const json s = read_json("s.json");
  EXPECT_EQ(s["aborted"], true);
  ASSERT_TRUE(s.contains("knee")) << s.dump();
  const double knee = s["knee"]["rows_per_second"].get<double>();
  EXPECT_GE(knee, 0.8 * 5000) << s["knee"].dump();
  EXPECT_LE(knee, 1.05 * 5000) << s["knee"].dump();
  EXPECT_EQ(s["knee"]["failed"], "p99<300ms");
  EXPECT_LT(s["knee"]["window_end_ms"].get<std::int64_t>(),
            s["knee"]["failed_at_ms"].get<std::int64_t>() + 1);
  expect_usage_error(gmsim({"receive", "--capacity", "0"}, 30s), {"--capacity"});
}

// --- docs/cli.md ----------------------------------------------------------------------------
