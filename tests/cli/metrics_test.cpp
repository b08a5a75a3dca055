// --metrics-listen, --metrics-push, --metrics-hold: the run's numbers for Prometheus while
// it runs and at its end, equal to the summary's. (A real Prometheus and Pushgateway:
// tests/interop/prometheus_test.sh.)
#include "cli/cli_support.hpp"

namespace {

using gmsim::testing::http_request;

// The sum of the samples of name whose labels contain every one of `with`.
double sum_of(const std::string& text, const std::string& name,
              const std::vector<std::string>& with = {}) {
  double total = 0;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name + "{", 0) != 0 && line.rfind(name + " ", 0) != 0) continue;
    bool all = true;
    for (const auto& w : with) all = all && line.find(w) != std::string::npos;
    if (all) total += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return total;
}

class cli_metrics : public cli {};

// Scraped while it runs (its first numbers unfinished), and once more after it ended:
// every counter then equals the summary's, by type and outcome, and the hold ends at
// that scrape rather than at its bound.
TEST_F(cli_metrics, a_scrape_sees_the_run_and_its_end_equals_the_summary) {
  std::unique_ptr<gmsim_process> receiver;
  const int receiver_port = start_receiver(
      receiver, {"--duration", "120s", "--fail-ratio", "0.3", "--fail-status", "503"});
  ASSERT_GT(receiver_port, 0);
  auto run = start({"run",
                    "quickstart",
                    "--duration",
                    "40s",
                    "--time-scale",
                    "8",
                    "--final-flush",
                    "at_duration",
                    "--workers",
                    "1",
                    "--no-auth",
                    "--target",
                    "http://127.0.0.1:" + std::to_string(receiver_port) + "/hook",
                    "--metrics-listen",
                    "127.0.0.1:0",
                    "--metrics-hold",
                    "10m",
                    "--summary-json",
                    file("s.json"),
                    "--quiet"});
  const auto port =
      run->wait_for_err(std::regex(R"(metrics at http://127\.0\.0\.1:(\d+)/metrics)"), 30s);
  ASSERT_TRUE(port) << run->err_text();
  std::string final_text;
  int unfinished = 0;
  for (int i = 0; i < 1200 && final_text.empty(); ++i) {  // a bound on a hang: 2 minutes
    const std::string r = http_request(std::stoi(*port), "GET", "/metrics");
    ASSERT_FALSE(r.empty()) << "gmsim stopped serving before its final numbers: "
                            << run->err_text();
    if (r.find("\ngmsim_run_finished 0\n") != std::string::npos) unfinished += 1;
    if (r.find("\ngmsim_run_finished 1\n") != std::string::npos) final_text = r;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_FALSE(final_text.empty());
  EXPECT_GT(unfinished, 0);
  EXPECT_NE(final_text.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  // The hold was for one scrape after the end: this one. The bound is only against a hang.
  auto r = run->wait(60s);
  EXPECT_FALSE(r.timed_out) << "--metrics-hold did not end at the scrape after the run";
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const json s = read_json("s.json");
  ASSERT_TRUE(s.is_object());
  ASSERT_GT(s["requests"]["rejected"].get<int>(), 0);  // the receiver failed some
  for (const auto& [type, outcomes] : s["rows"]["by_type_outcome"].items()) {
    for (const auto& [outcome, rows] : outcomes.items()) {
      EXPECT_EQ(sum_of(final_text, "gmsim_rows_total",
                       {"type=\"" + type + "\"", "outcome=\"" + outcome + "\""}),
                rows.get<double>())
          << type << " " << outcome;
    }
  }
  for (const char* outcome : {"delivered", "rejected", "failed", "unacknowledged", "unsent"}) {
    EXPECT_EQ(
        sum_of(final_text, "gmsim_requests_total", {std::string("outcome=\"") + outcome + "\""}),
        s["requests"][outcome].get<double>())
        << outcome;
  }
  for (const auto& [type, rows] : s["rows"]["by_type"].items()) {
    EXPECT_EQ(sum_of(final_text, "gmsim_rows_generated_total", {"type=\"" + type + "\""}),
              rows.get<double>());
  }
  for (const auto& [status, n] : s["requests"]["by_status"].items()) {
    EXPECT_EQ(sum_of(final_text, "gmsim_responses_total", {"status=\"" + status + "\""}),
              n.get<double>());
  }
  EXPECT_EQ(sum_of(final_text, "gmsim_sent_bytes_total"), s["requests"]["bytes"].get<double>());
  EXPECT_EQ(sum_of(final_text, "gmsim_request_latency_seconds_count"),
            s["requests"]["attempted"].get<double>());
  EXPECT_EQ(sum_of(final_text, "gmsim_delivery_lag_seconds_count"),
            s["rows"]["delivered"].get<double>());
  EXPECT_EQ(sum_of(final_text, "gmsim_queued_rows"), 0);
  EXPECT_NE(final_text.find("gmsim_info{command=\"run\",profile=\"quickstart\""),
            std::string::npos);
  receiver->signal(SIGTERM);
}

// Bad metrics options are usage errors before anything is sent (exit 2, one line).
TEST_F(cli_metrics, bad_options_are_refused_before_the_run) {
  expect_usage_error(gmsim({"run", "--metrics-listen", "0.0.0.0:9464"}),
                     {"--metrics-listen", "0.0.0.0", "--metrics-allow-remote"});
  expect_usage_error(gmsim({"run", "--metrics-listen", "127.0.0.1"}),
                     {"--metrics-listen", "ADDR:PORT"});
  expect_usage_error(gmsim({"run", "--dry-run", "--metrics-listen", "127.0.0.1:0"}),
                     {"--metrics-listen", "dry run", "--metrics-push"});
  expect_usage_error(gmsim({"run", "--metrics-hold", "5s"}),
                     {"--metrics-hold", "--metrics-listen"});
  expect_usage_error(gmsim({"run", "--metrics-allow-remote"}),
                     {"--metrics-allow-remote", "--metrics-listen"});
  expect_usage_error(gmsim({"run", "--dry-run", "--compare", "pacing_scope", "--metrics-push",
                            "http://127.0.0.1:1"}),
                     {"--compare", "--metrics-push"});
  expect_usage_error(gmsim({"run", "--dry-run", "--metrics-push", "ftp://127.0.0.1/x"}),
                     {"--metrics-push"});
  expect_usage_error(gmsim({"replay", file("none.ndjson"), "--target", "http://127.0.0.1:1/",
                            "--no-auth", "--metrics-listen", "[::]:0"}),
                     {"--metrics-listen", "--metrics-allow-remote"});
}

// A metrics port that is taken: the run does not start (nothing sent), exit 1 naming it.
TEST_F(cli_metrics, a_taken_port_stops_the_run_before_it_sends) {
  std::unique_ptr<gmsim_process> receiver;
  const int receiver_port =
      start_receiver(receiver, {"--duration", "120s", "--summary-json", file("seen.json")});
  ASSERT_GT(receiver_port, 0);
  int taken = 0;
  const int fd = listen_on_loopback(taken);
  ASSERT_GE(fd, 0);
  auto r = gmsim({"run", "--duration", "5s", "--time-scale", "10", "--no-auth", "--target",
                  "http://127.0.0.1:" + std::to_string(receiver_port) + "/", "--metrics-listen",
                  "127.0.0.1:" + std::to_string(taken), "--summary-json", file("s.json")});
  ::close(fd);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "gmsim run: --metrics-listen: cannot listen on 127.0.0.1:" +
                                  std::to_string(taken) + ": Address already in use"))
      << r.err;
  EXPECT_FALSE(fs::exists(path("s.json")));
  receiver->signal(SIGTERM);
  receiver->wait(30s);
  EXPECT_EQ(read_json("seen.json")["requests"], 0);
}

// A Pushgateway that is not there: the reports are still written, and the exit code (1)
// and stderr say the push failed, naming it.
TEST_F(cli_metrics, a_failed_push_is_a_failed_output) {
  const int nobody = gmsim::testing::free_port();
  auto r = gmsim({"run", "--dry-run", "--duration", "1m", "--metrics-push",
                  "http://127.0.0.1:" + std::to_string(nobody), "--summary-json", file("s.json")});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "--metrics-push: http://127.0.0.1:" + std::to_string(nobody)))
      << r.err;
  EXPECT_TRUE(contains(r.err, "refused")) << r.err;
  EXPECT_EQ(read_json("s.json")["rows"]["lost"], 0);
}

}  // namespace

namespace {

// `gmsim receive` answers GET /metrics beside /stats: the same counts, for Prometheus.
TEST_F(cli_metrics, a_receiver_serves_its_counts_for_prometheus) {
  std::unique_ptr<gmsim_process> receiver;
  const int port = start_receiver(receiver, {"--duration", "120s", "--fail-ratio", "0.5"});
  ASSERT_GT(port, 0);
  auto r = gmsim({"run", "--duration", "20s", "--time-scale", "10", "--final-flush", "at_duration",
                  "--no-auth", "--target", "http://127.0.0.1:" + std::to_string(port) + "/", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string metrics = http_request(port, "GET", "/metrics");
  const std::string stats_answer = http_request(port, "GET", "/stats");
  const json stats = json::parse(stats_answer.substr(stats_answer.find("\r\n\r\n") + 4));
  EXPECT_NE(metrics.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << metrics;
  ASSERT_GT(stats["rows_accepted"].get<int>(), 0);
  ASSERT_GT(stats["by_status"]["500"].get<int>(), 0);
  for (const auto& [type, rows] : stats["rows_by_type"].items()) {
    EXPECT_EQ(sum_of(metrics, "gmsim_receiver_rows_accepted_total", {"type=\"" + type + "\""}),
              rows.get<double>());
  }
  EXPECT_EQ(sum_of(metrics, "gmsim_receiver_rows_accepted_total"),
            stats["rows_accepted"].get<double>());
  EXPECT_EQ(sum_of(metrics, "gmsim_receiver_valid_requests_total"), stats["valid"].get<double>());
  EXPECT_EQ(sum_of(metrics, "gmsim_receiver_responses_total", {"status=\"500\""}),
            stats["by_status"]["500"].get<double>());
  // At --time-scale 10 the run's gaps are a tenth of the 200 ms this receiver checks.
  EXPECT_EQ(sum_of(metrics, "gmsim_receiver_gap_violations_total"),
            stats["gap_violations"].get<double>());
  EXPECT_GT(stats["gap_violations"].get<int>(), 0);
  receiver->signal(SIGTERM);
}

}  // namespace
