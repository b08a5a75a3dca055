// gmsim receive as a command, and gmsim run against it.
#include "cli/cli_support.hpp"

class cli_receive : public cli {
 protected:
  // Starts `gmsim receive` on a free loopback port; returns the port, or 0.
  int start_receiver(std::unique_ptr<gmsim_process>& process, args extra) {
    args a = {"receive", "--listen", "127.0.0.1:0", "--quiet"};
    a.insert(a.end(), extra.begin(), extra.end());
    process = start(a);
    auto port =
        process->wait_for_err(std::regex("listening on http://127\\.0\\.0\\.1:(\\d+)/"), 20s);
    EXPECT_TRUE(port.has_value()) << process->err_text();
    return port ? std::stoi(*port) : 0;
  }
};

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

// --- docs/cli.md ----------------------------------------------------------------------------
